# The production image: `labelwell serve --no-worker` (web) or `labelwell worker`, configured by
# environment variables (see README), data in /data, running as a non-root user.
FROM python:3.11-slim

# ffmpeg: ffprobe reads each audio and video file's duration, frame rate and frame count on import
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
RUN useradd --create-home --uid 1000 labelwell \
    && mkdir /data && chown labelwell:labelwell /data

WORKDIR /app
COPY pyproject.toml README.md piccolo_conf.py ./
COPY app ./app
COPY components ./components
COPY templates ./templates
COPY static ./static
COPY piccolo_migrations ./piccolo_migrations
RUN pip install --no-cache-dir -e . && chown -R labelwell:labelwell /app

USER labelwell
ENV LABELWELL_DATA_DIR=/data \
    LABELWELL_HOST=0.0.0.0 \
    LABELWELL_PORT=8080 \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health')"
CMD ["labelwell", "serve", "--no-worker"]

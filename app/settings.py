"""Settings read from environment variables; an empty variable counts as unset."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# name -> (default shown in the README, what it does). test_docs checks the README lists each one.
DOCUMENTED = {
    "DATABASE_URL": "SQLite file `labelwell.sqlite3` in the data folder",
    "LABELWELL_DATA_DIR": "`./data`",
    "LABELWELL_HOST": "`127.0.0.1`",
    "LABELWELL_PORT": "`8080`",
    "LABELWELL_SECRET_KEY": "generated once, kept in `<data>/secret_key`",
    "CELERY_BROKER_URL": "Celery's `filesystem://` transport in `<data>/broker`",
    "LABELWELL_USERNAME": "unset: admin `admin@localhost` with a generated password, printed once",
    "LABELWELL_PASSWORD": "unset: generated",
    "LABELWELL_USER_TOKEN": "unset: generated",
    "LABELWELL_COOKIE_SECURE": "`false` (set `true` behind HTTPS)",
    "LABELWELL_UPLOAD_MAX_MB": "`250`",
    "LABELWELL_IMPORT_MAX_TASKS": "`1000000`",
    "LABELWELL_PDF_MAX_PAGES": "`1000`",
    "LABELWELL_PDF_MAX_PIXELS": "`40000000` (a page's rendered pixels)",
    "LABELWELL_TASK_LOCK_MINUTES": "`10`",
    "LABELWELL_HOSTNAME": "`http://<host>:<port>` of this server",
    "LABELWELL_ML_BATCH_SIZE": "`100`",
    "LABELWELL_LEARNING_SAMPLE": "`20000`",
    "LABELWELL_LOCAL_FILES_ROOT": "unset: off",
    "LABELWELL_AGREEMENT_SYNC_ANNOTATIONS": "`20000`",
    "LABELWELL_TRUSTED_PROXIES": "unset: none",
    "LABELWELL_WEBHOOK_ALLOW_PRIVATE": "`false`",
    "LABELWELL_WEBHOOK_TIMEOUT_SECONDS": "`5`",
    "LABELWELL_WEBHOOK_RETRY_SECONDS": "`10`",
    "LABELWELL_WEBHOOK_ATTEMPTS": "`5`",
    "LABELWELL_STORAGE_ALLOW_PRIVATE": "`false`",
    "LABELWELL_STORAGE_TIMEOUT_SECONDS": "`20`",
    "LABELWELL_MEDIA_URL": "unset: the data folder's `upload/`",
    "LABELWELL_MEDIA_ENDPOINT": "unset: AWS",
    "AWS_ACCESS_KEY_ID": "unset",
    "AWS_SECRET_ACCESS_KEY": "unset",
    "AWS_SESSION_TOKEN": "unset",
    "AWS_DEFAULT_REGION": "unset: `us-east-1`",
}


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    host: str
    port: int
    broker_url: str
    admin_username: str | None
    admin_password: str | None
    admin_token: str | None
    cookie_secure: bool
    upload_max_bytes: int
    import_max_tasks: int
    pdf_max_pages: int  # a longer PDF upload is refused
    pdf_max_pixels: int  # a page that renders to more pixels than this is refused (a memory bomb)
    task_lock_seconds: int
    ml_batch_size: int
    learning_sample: int  # the built-in model trains on at most this many tasks (a stratified sample)
    agreement_sync_annotations: int  # up to this many annotations, a page recomputes the agreement report itself
    local_files_root: Path | None  # Label Studio's LOCAL_FILES_DOCUMENT_ROOT: /data/local-files/?d=… serves under it
    # addresses (or networks) of reverse proxies whose X-Forwarded-For/-Proto are believed; from
    # anyone else the headers are ignored, so a client cannot pick the address the login throttle sees
    trusted_proxies: tuple[str, ...] = ()

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    @property
    def broker_dir(self) -> Path:
        return self.data_dir / "broker"

    @property
    def hostname(self) -> str:
        """The address ML backends use to fetch task files back from us. Read when asked, because
        `labelwell serve --port` sets the port in the environment after settings were loaded."""
        return (env("LABELWELL_HOSTNAME") or own_address(env("LABELWELL_HOST", "127.0.0.1"),
                                                         env("LABELWELL_PORT", "8080"))).rstrip("/")

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "upload"

    def secret_key(self) -> str:
        """The configured key, or one generated on first use and kept in the data folder."""
        configured = env("LABELWELL_SECRET_KEY")
        if configured:
            return configured
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            # O_EXCL: the web process and the worker may start at the same moment
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


def load() -> Settings:
    data_dir = Path(env("LABELWELL_DATA_DIR", "data")).expanduser().resolve()
    return Settings(
        data_dir=data_dir,
        database_url=env("DATABASE_URL", f"sqlite:///{data_dir / 'labelwell.sqlite3'}"),
        host=env("LABELWELL_HOST", "127.0.0.1"),
        port=int(env("LABELWELL_PORT", "8080")),
        broker_url=env("CELERY_BROKER_URL", "filesystem://"),
        admin_username=env("LABELWELL_USERNAME"),
        admin_password=env("LABELWELL_PASSWORD"),
        admin_token=env("LABELWELL_USER_TOKEN"),
        cookie_secure=env("LABELWELL_COOKIE_SECURE", "false").lower() in ("1", "true", "yes"),
        upload_max_bytes=int(float(env("LABELWELL_UPLOAD_MAX_MB", "250")) * 1024 * 1024),
        import_max_tasks=int(env("LABELWELL_IMPORT_MAX_TASKS", "1000000")),
        pdf_max_pages=max(1, int(env("LABELWELL_PDF_MAX_PAGES", "1000"))),
        pdf_max_pixels=max(1, int(env("LABELWELL_PDF_MAX_PIXELS", "40000000"))),
        task_lock_seconds=int(float(env("LABELWELL_TASK_LOCK_MINUTES", "10")) * 60),
        ml_batch_size=max(1, int(env("LABELWELL_ML_BATCH_SIZE", "100"))),
        learning_sample=max(10, int(env("LABELWELL_LEARNING_SAMPLE", "20000"))),
        agreement_sync_annotations=int(env("LABELWELL_AGREEMENT_SYNC_ANNOTATIONS", "20000")),
        local_files_root=Path(root).expanduser() if (root := env("LABELWELL_LOCAL_FILES_ROOT")) else None,
        trusted_proxies=tuple(p.strip() for p in (env("LABELWELL_TRUSTED_PROXIES") or "").split(",") if p.strip()),
    )


def own_address(host: str, port: str) -> str:
    # a wildcard listen address is not somewhere a backend can connect to; loopback is
    reachable = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    return f"http://{reachable}:{port}"


settings = load()

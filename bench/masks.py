"""Masks and documents (issue 20): how fast brush masks are read and written, a workspace with 20 masks
opens, and a 200-page PDF pages.

1. RLE (components/rle.py), for a 1 MP and a 12 MP mask (seeded discs): encode and decode, p50 of
   --repeat, beside Label Studio's own SDK (label_studio_sdk.converter.brush, when installed) and the
   floor: numpy touching every RGBA value once (np.repeat of the mask into four channels).
2. The workspace of an image task whose prediction holds 20 masks (12 MP; --small: 0.5 MP): the
   server's GET, cold (every mask decoded and drawn as PNG) and warm (p50), against the same image with
   no masks; in Chromium, from the navigation's start until every mask is on screen.
3. A 200-page PDF (bench/pdf_pages.py): the worker's render, the first page on screen and a jump.

    .venv/bin/python bench/masks.py            # 1 MP and 12 MP, 200 pages
    .venv/bin/python bench/masks.py --small    # a smoke run
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components import masks, rle  # noqa: E402
from tests.helpers import CHROMIUM, chromium_page, launch  # noqa: E402

EMAIL, PASSWORD = "bench@example.com", "bench-pass"
CONFIG = """<View>
  <Image name="image" value="$image" zoom="true"/>
  <BrushLabels name="tag" toName="image"><Label value="Car"/><Label value="Road"/></BrushLabels>
</View>"""


def ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


def p50(fn, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(ms(start))
    return statistics.median(samples)


def blobs(width: int, height: int, count: int, seed: int) -> list[np.ndarray]:
    """`count` masks, each a few seeded discs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.ogrid[:height, :width]
    out = []
    for _ in range(count):
        mask = np.zeros((height, width), bool)
        for _ in range(3):
            cx, cy, r = rng.uniform(0, width), rng.uniform(0, height), rng.uniform(0.03, 0.12) * min(width, height)
            mask |= (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
        out.append(mask)
    return out


def codec(width: int, height: int, repeat: int) -> None:
    (mask,) = blobs(width, height, 1, 20)
    data = rle.encode(mask)
    encode = p50(lambda: rle.encode(mask), repeat)
    decode = p50(lambda: rle.decode(data, width, height), repeat)
    floor = p50(lambda: np.repeat(mask.view(np.uint8), 4), repeat)
    shown = p50(lambda: (masks._shown.cache_clear(), masks.shown({"rle": data}, width, height, "#ff0000")), repeat)
    mp = width * height / 1e6
    print(f"{mp:5.1f} MP mask ({len(data):,} RLE bytes): encode {encode:7.1f} ms ({encode / floor:.1f}x the floor), "
          f"decode {decode:7.1f} ms ({decode / floor:.1f}x), as a PNG for the page {shown:6.1f} ms; "
          f"floor (every RGBA value once) {floor:.2f} ms")
    try:
        from label_studio_sdk.converter import brush as ls
    except ImportError:
        print(f"{'':5}  Label Studio's SDK: not installed, skipped")
        return
    gray = mask.astype(np.uint8) * 255
    theirs_encode = p50(lambda: ls.mask2rle(gray), 1)
    theirs_decode = p50(lambda: ls.decode_rle(data), 1)
    print(f"{'':5}  Label Studio's SDK: encode {theirs_encode:8.1f} ms ({theirs_encode / encode:.0f}x ours), "
          f"decode {theirs_decode:8.1f} ms ({theirs_decode / decode:.0f}x ours)")


def picture(width: int, height: int) -> bytes:
    """A smooth seeded picture (a small PNG even at 12 MP)."""
    x = np.linspace(0, 255, width, dtype=np.float32)
    y = np.linspace(0, 255, height, dtype=np.float32)[:, None]
    rgb = np.stack([np.broadcast_to(x, (height, width)), np.broadcast_to(y, (height, width)),
                    np.full((height, width), 128, np.float32)], axis=2).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, "PNG", compress_level=1)
    return out.getvalue()


def workspace(width: int, height: int, count: int, repeat: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="labelwell-bench-masks-"))
    server = launch(folder / "data", f"sqlite:///{folder / 'bench.sqlite3'}", {
        "LABELWELL_USER_TOKEN": "bench", "LABELWELL_PASSWORD": PASSWORD, "LABELWELL_USERNAME": EMAIL,
        "LABELWELL_UPLOAD_MAX_MB": "200"})
    try:
        api = server.client(token="bench", timeout=600)
        project = api.post("/api/projects", json={"title": "Masks bench", "label_config": CONFIG}).json()["id"]
        png = picture(width, height)
        for name in ("plain.png", "masked.png"):
            assert api.post(f"/api/projects/{project}/import", files=[("file", (name, png))]).status_code == 201
        plain, masked = sorted(t["id"] for t in api.get(f"/api/tasks?project={project}").json()["tasks"])
        result = [{"id": f"m{i}", "from_name": "tag", "to_name": "image", "type": "brushlabels",
                   "original_width": width, "original_height": height, "image_rotation": 0,
                   "value": {"format": "rle", "rle": rle.encode(m), "brushlabels": ["Car" if i % 2 else "Road"]}}
                  for i, m in enumerate(blobs(width, height, count, 21))]
        made = api.post("/api/predictions", json={"task": masked, "result": result, "model_version": "bench"})
        assert made.status_code == 201, made.text[:300]

        def page(task: int) -> None:
            reply = api.get(f"/projects/{project}/label/{task}")
            assert reply.status_code == 200 and (task == plain or reply.text.count('class="lw-mask"') == count)

        start = time.perf_counter()
        page(masked)
        cold = ms(start)
        warm, bare = p50(lambda: page(masked), repeat), p50(lambda: page(plain), repeat)
        print(f"workspace with {count} masks of {width} x {height}: server GET cold {cold:.0f} ms, warm p50 {warm:.1f} ms; "
              f"the same image with no masks {bare:.1f} ms (warm {warm / bare:.2f}x)")
        if not os.path.exists(CHROMIUM):
            print(f"{'':5}  in Chromium: skipped ({CHROMIUM} is missing)")
            return
        with chromium_page(server, EMAIL, PASSWORD) as browser:
            browser.goto(f"/projects/{project}/label/{masked}")
            browser.wait_for_function(f"""() => {{ const m = [...document.querySelectorAll('img.lw-mask')];
                return m.length === {count} && m.every(i => i.complete && i.naturalWidth) }}""", timeout=120_000)
            shown = browser.evaluate("performance.now()")
            print(f"{'':5}  in Chromium: all {count} masks on screen {shown:.0f} ms after navigation starts")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", action="store_true", help="a smoke run: small masks, a 5-page PDF")
    parser.add_argument("--repeat", type=int, default=5, help="runs per p50 figure (5)")
    parser.add_argument("--no-pdf", action="store_true",
                        help="leave out the PDF part (the suite smoke-runs bench/pdf_pages.py on its own)")
    args = parser.parse_args()
    sizes = [(400, 300), (1000, 750)] if args.small else [(1000, 1000), (4000, 3000)]
    for width, height in sizes:
        codec(width, height, args.repeat)
    workspace(*sizes[-1], 20, args.repeat)
    if not args.no_pdf:
        from bench import pdf_pages
        pdf_pages.run(pages=5 if args.small else 200)


if __name__ == "__main__":
    main()

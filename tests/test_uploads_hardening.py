"""Uploads are safe: the size limit holds on every way in, the content decides the type (not the
name), any name is stored under a safe one inside <data>/upload/<project>/, and what is served
comes with headers that keep a browser from running it. Nothing outside that folder is reachable."""

from __future__ import annotations

import http.client
import io
import json
import re
import struct
import uuid
import zlib
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.helpers import ROOT, browser, csrf_from, launch
from tests.test_import import png, upload

TEXT_CONFIG = '<View><Text name="text" value="$text"/></View>'
IMAGE_CONFIG = '<View><Image name="image" value="$image"/></View>'
SAFE_STORED = re.compile(r"[0-9a-f]{8}-[A-Za-z0-9._-]{1,120}")
CODE_FOLDERS = ("app", "components", "static", "templates", "piccolo_migrations")


def stored_files(server, project_id: int) -> list[dict]:
    return server.query("SELECT file, original_name, content_type FROM lw_file_upload WHERE project = $1 ORDER BY id",
                        project_id)


def folder_of(server, project_id: int) -> Path:
    return server.data_dir / "upload" / str(project_id)


def files_named(token: str, *roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob(f"*{token}*")]


def image_bytes(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), (10, 20, 30)).save(out, fmt)
    return out.getvalue()


def bomb() -> bytes:
    """A PNG whose header claims 100,000 × 100,000 pixels: Pillow refuses to open it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


# -- the size limit --------------------------------------------------------------------------------

def test_the_size_limit_holds_on_every_way_in(server, tmp_path, database_url_factory):
    limited = launch(tmp_path, database_url_factory(server.engine), {
        "LABELWELL_USER_TOKEN": "t0k", "LABELWELL_USERNAME": "boss@example.com", "LABELWELL_PASSWORD": "boss-pass-1",
        "LABELWELL_UPLOAD_MAX_MB": "1"})
    limit = "larger than the upload limit of 1 MB (LABELWELL_UPLOAD_MAX_MB)"
    big = "".join(json.dumps({"text": f"line {i} " + "x" * 100}) + "\n" for i in range(11_000)).encode()
    assert len(big) > 1024 * 1024
    try:
        with limited.client(token="t0k") as api:
            project = api.post("/api/projects", json={"title": "Limits", "label_config": TEXT_CONFIG}).json()
            pid = project["id"]
            refused = [
                upload(api, pid, "big.jsonl", big),  # multipart
                api.post(f"/api/projects/{pid}/import?filename=big.jsonl", content=big,  # a raw body
                         headers={"Content-Type": "application/octet-stream"}),
                api.post(f"/api/projects/{pid}/import", content=json.dumps([{"text": "y" * 1_100_000}]),
                         headers={"Content-Type": "application/json"}),  # a JSON body
                upload(api, pid, "big.png", png(1, 1) + b"\0" * (1024 * 1024)),
            ]
            for response in refused:
                assert response.status_code == 400, response.text[:300]
                assert limit in response.text
            assert "big.jsonl is " + limit in refused[0].json()["validation_errors"]["file"][0]
            with closing(browser(limited, "boss@example.com", "boss-pass-1")) as web:  # the project page's form
                page = web.get(f"/projects/{pid}")
                form = web.post(f"/projects/{pid}/import", data={"_csrf_token": csrf_from(page.text)},
                                files=[("file", ("big.jsonl", big))])
                assert form.status_code == 400 and limit in form.text
            # nothing of the refused files was kept: no file, no row, no task
            assert not [p for p in (tmp_path / "upload").rglob("*") if p.is_file()]
            assert not limited.query("SELECT id FROM lw_file_upload")
            assert api.get(f"/api/projects/{pid}").json()["task_number"] == 0
            # just under the limit is fine
            fits = upload(api, pid, "fits.jsonl", big[: 1000 * 1024].rsplit(b"\n", 1)[0] + b"\n")
            assert fits.status_code == 201, fits.text[:300]
    finally:
        limited.stop()


# -- what a file is: its content decides ------------------------------------------------------------

@pytest.mark.parametrize(("name", "content", "words"), [
    ("page.png", b"<!doctype html><script>alert(1)</script>", "not a readable image"),
    ("vector.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "not a readable image"),
    ("notes.jpg", b"just some text", "not a readable image"),
    ("vector.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "cannot be imported"),
    ("page.html", b"<script>alert(1)</script>", "cannot be imported"),
    ("page.htm", b"<script>alert(1)</script>", "cannot be imported"),
    ("run.exe", b"MZ\x90\x00", "cannot be imported"),
    ("noext", b"{}", "cannot be imported"),
    ("icon.png", image_bytes("ICO"), "is a ICO image"),
    ("huge.png", bomb(), "too many pixels"),
])
def test_a_file_that_is_not_what_its_name_says_is_refused(server, api, make_project, name, content, words):
    project = make_project(label_config=IMAGE_CONFIG)
    response = upload(api, project["id"], name, content)
    assert response.status_code == 400, response.text[:300]
    assert words in response.json()["validation_errors"]["file"][0]
    assert not stored_files(server, project["id"])
    assert not [p for p in folder_of(server, project["id"]).glob("*")]


def test_an_image_is_stored_and_served_as_what_it_is(server, api, make_project):
    project = make_project(label_config=IMAGE_CONFIG)
    response = api.post(f"/api/projects/{project['id']}/import",
                        files=[("file", ("really-a-gif.png", image_bytes("GIF"))), ("file", ("photo.JPG", image_bytes("JPEG")))])
    assert response.status_code == 201, response.text
    assert [f["content_type"] for f in stored_files(server, project["id"])] == ["image/gif", "image/jpeg"]
    for stored, kind in zip(stored_files(server, project["id"]), ("image/gif", "image/jpeg")):
        served = api.get(f"/data/upload/{stored['file']}")
        assert served.status_code == 200 and served.headers["content-type"] == kind
        assert served.headers["content-disposition"].startswith("inline")
        assert_guarded(served)


def assert_guarded(served) -> None:
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-security-policy"] == "sandbox"


def test_an_svg_or_a_page_from_local_files_is_a_download(server, api):
    """Local files (LABELWELL_LOCAL_FILES_ROOT) are not checked at import: SVG and HTML there are
    never shown inline, where their scripts could run."""
    folder = server.data_dir / "local-files" / "hostile"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "x.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')
    (folder / "x.html").write_text("<script>alert(1)</script>")
    (folder / "x.png").write_bytes(png(2, 2))
    for name, kind, disposition in (("x.svg", "image/svg+xml", "attachment"), ("x.html", "text/html", "attachment"),
                                    ("x.png", "image/png", "inline")):
        served = api.get(f"/data/local-files/?d=hostile/{name}")
        assert served.status_code == 200 and served.headers["content-type"].split(";")[0] == kind
        assert served.headers["content-disposition"].startswith(disposition), name
        assert_guarded(served)


@pytest.mark.parametrize(("name", "content", "kind"), [
    ("tasks.json", b'[{"text": "<script>alert(1)</script><svg onload=alert(1)>"}]', "application/json"),
    ("tasks.jsonl", b'{"text": "<html><script>alert(1)</script>"}\n', "application/x-ndjson"),
    ("tasks.csv", b"text\n<script>alert(1)</script>\n", "text/csv"),
    ("tasks.tsv", b"text\n<script>alert(1)</script>\n", "text/tab-separated-values"),
    ("tasks.txt", b"<!doctype html><html><script>alert(1)</script></html>\n", "text/plain"),
])
def test_a_data_file_is_served_as_an_attachment_never_as_a_page(server, api, make_project, name, content, kind):
    project = make_project(label_config=TEXT_CONFIG)
    assert upload(api, project["id"], name, content).status_code == 201
    (stored,) = stored_files(server, project["id"])
    served = api.get(f"/data/upload/{stored['file']}")
    assert served.status_code == 200 and served.content == content
    assert served.headers["content-type"].split(";")[0] == kind
    assert served.headers["content-disposition"].startswith("attachment")
    assert_guarded(served)


# -- names --------------------------------------------------------------------------------------------

HOSTILE_NAMES = ["../../{t}.json", "..\\..\\{t}.json", "/etc/{t}.json", "C:\\Windows\\{t}.json",
                 '"><img src=x onerror=alert(1)>{t}.json', "{t}" + "x" * 1000 + ".json", "....//..//{t}.json",
                 "./.{t}.json", "ünïcødé 文件 {t}.json", "%2e%2e%2f{t}.json", "..", "{t}.json\r\nX-Evil: 1"]


def multipart(api, project_id: int, filename: bytes, content: bytes):
    """A multipart upload written byte by byte: clients escape a NUL or a line break in a file
    name, an attacker's script does not."""
    boundary = "lw" + uuid.uuid4().hex
    body = (f"--{boundary}\r\n".encode() + b'Content-Disposition: form-data; name="file"; filename="' + filename
            + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + content + f"\r\n--{boundary}--\r\n".encode())
    return api.post(f"/api/projects/{project_id}/import", content=body,
                    headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})


def test_any_name_is_stored_under_a_safe_one_inside_the_project_folder(server, api, make_project):
    project = make_project(label_config=TEXT_CONFIG)
    token = "tok" + uuid.uuid4().hex[:10]
    names = [n.replace("{t}", token) for n in HOSTILE_NAMES]
    content = b'{"text": "x"}\n'
    responses = {name: upload(api, project["id"], name, content) for name in names}
    # the same names and worse, sent raw: as a multipart file name, and as a raw body's ?filename=
    for raw in (f"a\x00b{token}.json", f"../../{token}\x00.json", f"x{token}\n\r.json"):
        responses[f"multipart {raw!r}"] = multipart(api, project["id"], raw.encode(), content)
        responses[f"body {raw!r}"] = api.post(f"/api/projects/{project['id']}/import", params={"filename": raw},
                                              content=content, headers={"Content-Type": "application/octet-stream"})
    for name, response in responses.items():
        refused_kind = name in ("..", names[-1])  # no .json at the end: refused as a kind of file
        assert response.status_code == (400 if refused_kind else 201), (name, response.text[:300])
    folder = folder_of(server, project["id"])
    stored = stored_files(server, project["id"])
    assert len(stored) == len(responses) - 2
    for row in stored:
        project_part, _, file_name = row["file"].partition("/")
        assert project_part == str(project["id"]) and SAFE_STORED.fullmatch(file_name), row["file"]
        assert (folder / file_name).is_file()
        assert row["original_name"].endswith(".json") and "\x00" not in row["original_name"]
        served = api.get(f"/data/upload/{row['file']}")
        assert served.status_code == 200 and served.headers["content-disposition"].startswith("attachment")
        assert "\n" not in served.headers["content-disposition"] and "x-evil" not in served.headers
        assert_guarded(served)
    # nothing was written anywhere but the project's folder: not in the data folder, not in the code
    outside = [p for p in files_named(token, server.data_dir, *(ROOT / f for f in CODE_FOLDERS), Path("/etc"))
               if p.parent != folder]
    assert not outside
    assert sorted(p.name for p in folder.iterdir()) == sorted(r["file"].split("/")[1] for r in stored)


def test_uploads_live_in_the_data_folder_never_with_the_code(server, api, make_project):
    project = make_project(label_config=IMAGE_CONFIG)
    token = "tok" + uuid.uuid4().hex[:10]
    assert upload(api, project["id"], f"{token}.png", png(4, 4)).status_code == 201
    (stored,) = stored_files(server, project["id"])
    on_disk = folder_of(server, project["id"]) / stored["file"].split("/")[1]
    assert on_disk.is_file() and on_disk.resolve().is_relative_to(server.data_dir.resolve())
    assert not any(on_disk.resolve().is_relative_to((ROOT / f).resolve()) for f in CODE_FOLDERS)
    assert not files_named(token, *(ROOT / f for f in CODE_FOLDERS))
    # and the static route, which serves the code's files, knows nothing of it
    name = stored["file"].split("/")[1]
    for path in (f"/static/{name}", f"/static/../data/upload/{stored['file']}", f"/static/%2e%2e/upload/{stored['file']}"):
        assert raw_get(server, path).status not in range(200, 300), path


# -- reading outside the folder --------------------------------------------------------------------

def raw_get(server, path: str, token: str | None = None) -> http.client.HTTPResponse:
    """A request sent with its path exactly as written (no client tidies the dots or escapes)."""
    where = urlsplit(server.base_url)
    conn = http.client.HTTPConnection(where.hostname, where.port, timeout=30)
    conn.putrequest("GET", path, skip_accept_encoding=True)
    conn.putheader("Authorization", f"Token {token or server.admin_token}")
    conn.endheaders()
    response = conn.getresponse()
    response.body = response.read()
    conn.close()
    return response


def test_nothing_outside_the_project_folder_can_be_read(server, api, make_project):
    secret = (server.data_dir / "secret_key").read_text().strip()
    assert secret
    project, other = make_project(label_config=TEXT_CONFIG), make_project(label_config=TEXT_CONFIG)
    upload(api, other["id"], "theirs.json", b'[{"text": "other project"}]')
    (theirs,) = stored_files(server, other["id"])
    theirs_name = theirs["file"].split("/")[1]
    upload(api, project["id"], "mine.json", b'[{"text": "mine"}]')
    # a file put in the folder by hand is no upload: only stored uploads are served
    folder_of(server, project["id"]).mkdir(parents=True, exist_ok=True)
    (folder_of(server, project["id"]) / "planted.json").write_text(secret)
    pid = project["id"]
    attempts = [f"/data/upload/{pid}/..%2F..%2Fsecret_key", f"/data/upload/{pid}/..%2f..%2fsecret_key",
                f"/data/upload/{pid}/%2E%2E%2F%2E%2E%2Fsecret_key", f"/data/upload/{pid}/%252E%252E%252Fsecret_key",
                f"/data/upload/{pid}/..%5C..%5Csecret_key", f"/data/upload/{pid}/../../secret_key",
                f"/data/upload/{pid}/..", f"/data/upload/{pid}/%2e%2e", f"/data/upload/{pid}/secret_key%00.json",
                f"/data/upload/{pid}/planted.json", f"/data/upload/{pid}/..%2F{other['id']}%2F{theirs_name}",
                f"/data/upload/{pid}/{theirs_name}", f"/data/upload/{pid}/%2Fetc%2Fpasswd",
                f"/data/upload/{pid}/{'..%2F' * 12}etc%2Fpasswd", "/data/upload/../secret_key", "/data/secret_key",
                "/data/upload/secret_key", f"/data/upload/{pid}%2F..%2F..%2Fsecret_key",
                "/data/local-files/?d=../secret_key", "/data/local-files/?d=..%2Fsecret_key",
                "/data/local-files/?d=/etc/passwd", "/data/local-files/?d=..%2Fsecret_key%00.png", f"/data/local-files/?d={server.data_dir / 'secret_key'}",
                "/static/..%2F..%2Fapp%2Fsettings.py", "/static/%2e%2e/%2e%2e/app/settings.py"]
    for path in attempts:
        response = raw_get(server, path)
        assert response.status in (400, 404), (path, response.status)
        assert secret.encode() not in response.body and b"root:" not in response.body, path
    assert raw_get(server, f"/data/upload/{theirs['file']}").status == 200  # where it belongs, it is served

"""The embedded broker's messages appear whole. kombu's filesystem transport creates a message's
file under its final name and only then writes it, so a worker polling the folder in between can
take the empty file and die on the JSON (seen once in CI: the worker's consumer crashed, and every
later job waited). The race is too narrow to hit on demand, so the test looks at the folder at the
moment the message's bytes are made: no file by a name a reader takes may be there yet."""

from __future__ import annotations

import pytest
from kombu import Connection
from kombu.transport import filesystem

from app import broker_files


def visible_while_writing(module, transport: type, folder, monkeypatch) -> list[str]:
    seen: list[str] = []
    real = module.dumps

    def watching(payload):
        seen.extend(p.name for p in folder.iterdir() if p.name.endswith(".msg"))
        return real(payload)

    monkeypatch.setattr(module, "dumps", watching)
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder), "store_processed": False,
               "control_folder": str(folder / "control")}
    with Connection(transport=transport, transport_options=options) as conn:
        channel = conn.channel()
        channel._put("jobs", {"body": "x"})
        assert channel._get("jobs") == {"body": "x"}  # and the reader gets it whole afterwards
    return seen


def test_no_reader_can_take_a_message_before_it_is_written(tmp_path, monkeypatch):
    assert visible_while_writing(broker_files, broker_files.Transport, tmp_path, monkeypatch) == []


def test_kombus_own_transport_shows_the_empty_file_first(tmp_path, monkeypatch):
    """The check above can fail: kombu's transport, which the embedded broker replaced, fails it."""
    seen = visible_while_writing(filesystem, filesystem.Transport, tmp_path, monkeypatch)
    if not seen:
        pytest.fail("kombu now writes its messages whole: app/broker_files.py may be removed")

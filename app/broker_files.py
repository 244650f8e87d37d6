"""The embedded broker: kombu's filesystem transport, with each message written whole before it
appears. kombu creates the message file and then writes it, so a worker polling the folder can
take the file while it is still empty and die on the half-read JSON (seen in CI: the worker's
consumer crashed with JSONDecodeError and every later job waited). Here the message is written
under a name the reader skips and renamed into place: a rename is atomic, so a reader sees all of
it or nothing."""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:
        name = f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = os.path.join(self.data_folder_out, f".{name}.part")  # not "<queue>.msg": never read
        try:
            with open(partial, "wb") as file:
                file.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel

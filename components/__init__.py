"""The labelling config engine: Label Studio's XML dialect, one unit per tag.

Pure: no database and no web framework, so the server, the worker and the tests share it.
"""

from __future__ import annotations

from components.errors import ConfigError
from components.xml import parse_xml

__all__ = ["ConfigError", "parse_xml"]

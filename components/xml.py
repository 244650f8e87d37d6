"""Safe parsing of config XML: no DTDs, no entities, no network, a size limit."""

from __future__ import annotations

from lxml import etree

from components.errors import ConfigError

MAX_CONFIG_BYTES = 512 * 1024

_PARSER_OPTIONS = dict(
    resolve_entities=False,  # an entity is never expanded (entity bombs, XXE)
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=False,  # Label Studio keeps a sample task in a comment
)


def parse_xml(text: str) -> etree._Element:
    """Parse a labelling config; raise ConfigError naming the line for anything malformed or hostile."""
    if not text or not text.strip():
        raise ConfigError("The labelling config is empty: it needs at least <View></View>.")
    data = text.encode("utf-8")
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"The labelling config is {len(data)} bytes; the limit is {MAX_CONFIG_BYTES}.")
    if b"<!DOCTYPE" in data.upper() or b"<!ENTITY" in data.upper():
        raise ConfigError("DOCTYPE and ENTITY declarations are not allowed in a labelling config.")
    # the text is ours, already decoded: an encoding declaration inside must not re-decode it
    parser = etree.XMLParser(encoding="utf-8", **_PARSER_OPTIONS)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        line = exc.lineno or None
        raise ConfigError(f"The XML is not well formed: {exc.msg}", line=line) from None
    if root.tag != "View":
        raise ConfigError("The labelling config must start with <View>.", line=root.sourceline, tag=str(root.tag))
    return root

"""Parsing and validating configs: errors name the line, the tag and the attribute; hostile XML gets nowhere."""

from __future__ import annotations

import pytest

from components import REGISTRY, ConfigError, ConfigInvalid, parse_config


def errors_of(xml: str) -> list[ConfigError]:
    with pytest.raises(ConfigError) as caught:
        parse_config(xml)
    return caught.value.errors if isinstance(caught.value, ConfigInvalid) else [caught.value]


def test_sample_configs_parse(shared_configs):
    for name, xml in shared_configs.items():
        assert parse_config(xml).controls, name


@pytest.mark.parametrize(("xml", "line", "tag", "attribute", "words"), [
    ('<View>\n<Text value="$t"/>\n</View>', 2, "Text", "name", "needs a name"),
    ('<View>\n<Text name="t" value="$t"/>\n<Text name="t" value="$u"/>\n</View>', 3, "Text", "name", "already used"),
    ('<View>\n<Text name="t" value="$t"/>\n<Choices name="c" toName="t,x"><Choice value="a"/></Choices>\n</View>',
     3, "Choices", "toName", 'toName="x" points at nothing'),
    ('<View><Text name="t" value="$t"/>\n<RectangleLabels name="r" toName="t"><Label value="a"/></RectangleLabels></View>',
     2, "RectangleLabels", "toName", "cannot label <Text>"),
    ('<View><Text name="t" value="$t"/>\n\n<Labels name="l" toName="t"></Labels></View>', 3, "Labels", None, "no <Label>"),
    ('<View><Text name="t" value="$t"/>\n<Choices name="c" toName="t"/></View>', 2, "Choices", None, "no <Choice>"),
    ('<View><Text name="t" value="$t"/>\n<Choices name="c" toName="t" choice="maybe"><Choice value="a"/></Choices></View>',
     2, "Choices", "choice", "'maybe' is not a valid choice"),
    ('<View>\n<Texte name="t" value="$t"/></View>', 2, "Texte", None, "not a labelling-config tag"),
    ('<View><Text name="t" value="$t"/><Labels name="l" toName="t">\n<Label/></Labels></View>', 2, "Label", "value", "needs a value"),
    ('<View><Text name="t" value="$t"/>\n<TextArea name="n" toName="t" perRegion="true" perItem="true"/></View>',
     2, "TextArea", "perItem", "cannot be used together"),
    ('<View><Text name="t" value="$t"/>\n<Rating name="r" toName="t" maxRating="five"/></View>', 2, "Rating", "maxRating",
     "whole number"),
    ('<View><Text name="a" value="$a"/>\n<Pairwise name="p" toName="a"/></View>', 2, "Pairwise", "toName", "two objects"),
])
def test_errors_name_line_tag_and_attribute(xml, line, tag, attribute, words):
    found = [e for e in errors_of(xml) if e.tag == tag]
    assert found, errors_of(xml)
    error = found[0]
    assert (error.line, error.attribute) == (line, attribute)
    assert words in error.message
    assert f"line {line}" in str(error)


def test_unsupported_label_studio_tag_is_named_with_the_supported_list():
    error = errors_of('<View><Markdown name="v" value="$doc"/></View>')[0]
    assert "<Markdown> is a Label Studio tag Labelwell does not support yet" in error.message
    for tag in ("Text", "RectangleLabels", "Taxonomy"):
        assert tag in error.message


def test_every_error_is_reported_not_only_the_first():
    xml = '<View>\n<Labels name="l" toName="nope"/>\n<Choices toName="t"><Choice value="a"/></Choices>\n</View>'
    assert len(errors_of(xml)) >= 3


def test_malformed_xml_names_the_line():
    error = errors_of("<View>\n<Text name='t' value='$t'>\n</View>")[0]
    assert error.line == 3 and "not well formed" in error.message


@pytest.mark.parametrize("xml", [
    '<?xml version="1.0"?><!DOCTYPE v [<!ENTITY x SYSTEM "file:///etc/passwd">]><View><Header value="&x;"/></View>',
    '<!DOCTYPE v [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]>'
    '<View><Header value="&c;"/></View>',
    '<!DOCTYPE View SYSTEM "http://127.0.0.1:9/evil.dtd"><View/>',
    '<View><Header value="&undefined;"/></View>',
])
def test_hostile_xml_is_rejected_without_reading_anything(xml):
    error = errors_of(xml)[0]
    assert "root:" not in str(error)
    assert "DOCTYPE" in error.message or "not well formed" in error.message


def test_a_ten_megabyte_config_is_refused_by_size():
    xml = "<View>" + '<Header value="x"/>' * 600_000 + "</View>"
    assert len(xml) > 10_000_000
    assert "limit" in errors_of(xml)[0].message


def test_comments_are_allowed_and_the_sample_task_is_read():
    xml = '<!-- a note -->\n<View><!-- inside --><Text name="t" value="$text"/></View>\n<!-- {"data": {"text": "Hi"}} -->'
    config = parse_config(xml)
    assert config.sample_task() == {"data": {"text": "Hi"}}


def test_sample_task_is_generated_from_the_data_keys_without_a_comment():
    config = parse_config('<View><Text name="t" value="$body"/><Image name="i" value="$img"/></View>')
    data = config.sample_task()["data"]
    assert set(data) == {"body", "img"} and data["img"].startswith("data:image/svg+xml")


def test_data_keys_follow_variables():
    config = parse_config("""<View>
      <Header value="Review of $title by $meta.author"/>
      <Text name="t" value="$doc.body"/>
      <Image name="i" value="$images[0]"/>
      <Choices name="c" toName="t" value="$options"/>
    </View>""")
    assert config.data_keys() == ["doc", "images", "options"]


def test_hotkeys_are_auto_assigned_in_order_after_explicit_ones():
    config = parse_config("""<View><Text name="t" value="$t"/>
      <Labels name="l" toName="t"><Label value="A"/><Label value="B" hotkey="2"/><Label value="C"/></Labels>
      <Choices name="c" toName="t"><Choice value="x"/></Choices></View>""")
    assert [n.hotkey for n in config.nodes if n.tag in ("Label", "Choice")] == ["1", "2", "3", "4"]


def test_every_registered_tag_is_a_real_unit():
    for tag, cls in REGISTRY.items():
        assert cls.tag == tag or (tag, cls.tag) == ("AudioPlus", "Audio")  # an alias reads as its tag
        if cls.kind != "child":
            assert cls.template, tag


@pytest.mark.parametrize("tag", sorted(t for t, cls in REGISTRY.items() if "name" in cls.required))
def test_each_named_tag_without_a_name_is_an_error_naming_it(tag):
    inner = '<Label value="a"/>' if tag.endswith("Labels") else '<Choice value="a"/>' if tag in ("Choices", "Taxonomy") else ""
    xml = f'<View>\n<Text name="t" value="$t"/>\n<{tag} toName="t" value="$x">{inner}</{tag}>\n</View>'
    errors = [e for e in errors_of(xml) if e.tag == tag and e.attribute == "name"]
    assert errors and errors[0].line == 3

"""The README keeps its promises: every setting documented, the test command is what CI runs,
vendored files are what VENDORED.md says."""

from __future__ import annotations

import hashlib
import re

from app.settings import DOCUMENTED, ROOT

README = (ROOT / "README.md").read_text()


def test_every_setting_is_in_the_readme_table():
    rows = {m.group(1) for m in re.finditer(r"^\| `([A-Z_]+)` \|", README, re.M)}
    assert set(DOCUMENTED) <= rows, f"missing from the README table: {set(DOCUMENTED) - rows}"


def test_every_setting_read_by_the_code_is_documented():
    names = set()
    for path in (ROOT / "app").rglob("*.py"):
        names |= set(re.findall(r"""env\(\s*["']([A-Z_]+)["']""", path.read_text()))
    assert names <= set(DOCUMENTED), f"read but not documented: {names - set(DOCUMENTED)}"


def quick_start() -> list[str]:
    section = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(?:sh|bash)\n(.*?)\n```", section, re.S)


def test_quick_start_is_two_commands_and_ci_runs_the_second():
    commands = quick_start()
    assert len(commands) == 2, commands
    ci = (ROOT / ".ci" / "run").read_text()
    assert commands[1].strip() in ci


def test_the_readme_lists_the_packages_ci_installs():
    packages = (ROOT / ".ci" / "packages").read_text().split()
    assert "$(cat .ci/packages)" in (ROOT / ".ci" / "run").read_text()
    listed = re.findall(r"`apt-get install ([a-z0-9 .+-]+)`", README)
    assert listed and all(line.split() == packages for line in listed), (listed, packages)


def test_vendored_files_match_their_recorded_sha256():
    listed = re.findall(r"^\| (\S+) \| .*? \| ([0-9a-f]{64}) \|", (ROOT / "static" / "VENDORED.md").read_text(), re.M)
    assert listed
    for name, sha in listed:
        assert hashlib.sha256((ROOT / "static" / name).read_bytes()).hexdigest() == sha, name


def test_htmx_is_the_pinned_2x_line():
    from app.templating import HTMX

    assert 'version:"2.0.11"' in (ROOT / "static" / HTMX).read_text()


def test_every_config_tag_is_documented():
    from components import REGISTRY

    documented = set(re.findall(r"^#{2,3} `<(\w+)>`", (ROOT / "docs" / "tags.md").read_text(), re.M))
    assert set(REGISTRY) <= documented, f"not in docs/tags.md: {set(REGISTRY) - documented}"


def test_tags_md_is_what_the_tag_classes_say():
    from components.reference import REGENERATE, markdown

    written = (ROOT / "docs" / "tags.md").read_text()
    assert written == markdown(), f"docs/tags.md is out of date with components/: run `{REGENERATE}`"

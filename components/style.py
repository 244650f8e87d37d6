"""<Style>: CSS for the form, scoped to it (every selector prefixed) and cleaned of anything that
could load a resource or break out of the <style> element."""

from __future__ import annotations

import re

from components.base import About, Component

SCOPE = ".lw-form"
_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
_UNSAFE = re.compile(r"url\s*\(|image-set\s*\(|src\s*\(|expression\s*\(|@import|javascript:|behavior\s*:|"
                     r"-moz-binding|[<\\'\"]", re.I)


def clean_declarations(css: str) -> str:
    """Keep only `property: value` pairs that cannot fetch anything or escape the attribute."""
    kept = []
    for declaration in css.split(";"):
        prop, sep, value = declaration.partition(":")
        if sep and re.fullmatch(r"\s*-?[a-zA-Z-]+\s*", prop) and not _UNSAFE.search(value) and '"' not in value:
            kept.append(f"{prop.strip()}: {value.strip()}")
    return "; ".join(kept)


def scope_css(css: str) -> str:
    rules = []
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"@[^{};]*;", "", css)  # at-statements such as @import fetch things
    for selectors, body in _RULE.findall(css):
        if selectors.strip().startswith("@"):
            continue  # no at-rules: @import, @font-face and friends fetch things
        # a selector may not start with a combinator: ".lw-form ~ *" would style the page around the form
        scoped = ", ".join(f"{SCOPE} {s.strip()}" for s in selectors.split(",")
                           if s.strip() and not _UNSAFE.search(s) and s.strip()[0] not in "~+>")
        declarations = clean_declarations(body)
        if scoped and declarations:
            rules.append(f"{scoped} {{ {declarations} }}")
    return "\n".join(rules)


class Style(Component):
    tag = "Style"
    about = About(
        summary="CSS for the form, scoped: every selector is prefixed with `.lw-form`; `@import`, `url(…)`, "
                "`expression(…)` and anything that could close the `<style>` element are removed.",
        example="<Style>.lw-header { color: #0b5394; }</Style>")
    template = "style.html"
    child_tags = ()

    @property
    def css(self) -> str:
        return scope_css(self.body)

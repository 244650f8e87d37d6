"""Driving a rendered form the way a browser submits it."""

from __future__ import annotations

import json

import lxml.html

from components import parse_config


def form_of(html: str) -> dict[str, list[str]]:
    """The fields a browser would submit from this HTML (checked boxes only, no disabled fields)."""
    form: dict[str, list[str]] = {}
    for el in lxml.html.fromstring(f"<div>{html}</div>").xpath("//input|//textarea|//select"):
        name = el.get("name")
        if not name or el.get("disabled") is not None:
            continue
        if el.tag == "input" and el.get("type") in ("radio", "checkbox") and el.get("checked") is None:
            continue
        value = el.text or "" if el.tag == "textarea" else el.get("value", "")
        form.setdefault(name, []).append(value)
    return form


def canonical(results: list[dict]) -> list[str]:
    return sorted(json.dumps({k: v for k, v in r.items() if k != "origin"}, sort_keys=True) for r in results)


def round_trip(xml: str, data: dict, results: list[dict]) -> list[dict]:
    """Check the results, render them into the form, submit the form, and return what comes back."""
    config = parse_config(xml)
    errors, warnings = config.check_results(results, data)
    assert errors == [] and warnings == [], (errors, warnings)
    collected = config.collect(data, form_of(str(config.render(data, results))))
    assert canonical(collected) == canonical(results)
    return collected

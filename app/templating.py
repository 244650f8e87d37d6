"""The Jinja environment: templates/ for pages, components/ for each config tag's partial."""

from __future__ import annotations

from importlib.metadata import version

import nh3
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from markupsafe import Markup

from app.settings import ROOT

HTMX = "htmx-2.0.11.min.js"


def sanitize_html(value: str | None) -> Markup:
    """Instructions and HyperText are HTML written by others: keep the formatting, drop scripts."""
    return Markup(nh3.clean(value or ""))


@pass_context
def current_user(context: dict) -> object | None:
    """The signed-in user, or None on public and error pages."""
    return context["request"].scope.get("user")


@pass_context
def get_flashes(context: dict) -> list[dict]:
    """Flash messages, taken once; none on pages the router answered before the session existed (404s)."""
    session = context["request"].scope.get("session")
    return session.pop("_messages", []) if isinstance(session, dict) else []


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader([ROOT / "templates", ROOT / "components"]),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["sanitize"] = sanitize_html
    env.globals.update(current_user=current_user, get_flashes=get_flashes, htmx_file=HTMX, labelwell_version=version("labelwell"))
    return env

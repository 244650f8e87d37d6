"""The workspace's action keys: Label Studio's defaults, and each user's own remapping."""

from __future__ import annotations

import re
from typing import Any

from app.errors import InputError

# action -> (default key, what it does); the keys follow Label Studio's keymap where it has one
ACTIONS: dict[str, tuple[str, str]] = {
    "submit": ("ctrl+enter", "Submit (or update) the annotation"),
    "skip": ("ctrl+space", "Skip the task"),
    "undo": ("ctrl+z", "Undo the last change"),
    "redo": ("ctrl+shift+z", "Redo"),
    "delete": ("backspace", "Delete the selected region"),
    "relation": ("alt+r", "Link the selected region to the next one you pick"),
    "unselect": ("escape", "Unselect the region, or leave relation mode"),
    "previous": ("ctrl+arrowleft", "Go to the task you did before"),
    "next": ("ctrl+arrowright", "Go to the next task in the queue"),
    "instructions": ("alt+i", "Show or hide the project's instructions"),
    "help": ("?", "Show these keys"),
}
MODIFIERS = ("ctrl", "alt", "shift")
KEY = re.compile(r"^((ctrl|alt|shift)\+){0,3}([a-z0-9]|f[1-9]|f1[0-2]|enter|space|backspace|delete|escape|tab|"
                 r"arrow(left|right|up|down)|[`\-=\[\];',./?\\])$")


def normalise(value: str) -> str:
    """'Shift + Ctrl + Z' -> 'ctrl+shift+z': modifiers in one order, so the browser can compare."""
    parts = [p.strip().lower() for p in value.split("+")]
    if value.strip().endswith("++"):
        parts = [*[p for p in parts if p], "+"]
    parts = [p for p in parts if p]
    mods = [m for m in MODIFIERS if m in parts or (m == "ctrl" and ("cmd" in parts or "meta" in parts))]
    keys = [p for p in parts if p not in (*MODIFIERS, "cmd", "meta")]
    aliases = {"esc": "escape", "del": "delete", "return": "enter", "left": "arrowleft", "right": "arrowright",
               "up": "arrowup", "down": "arrowdown", " ": "space"}
    return "+".join([*mods, *[aliases.get(k, k) for k in keys]])


def keymap(user: Any) -> dict[str, str]:
    mine = user.hotkeys if isinstance(getattr(user, "hotkeys", None), dict) else {}
    return {action: mine.get(action) or default for action, (default, _) in ACTIONS.items()}


def clean(form: dict[str, str], label_keys: set[str] = frozenset()) -> dict[str, str]:
    """The keys a user chose, checked: known actions, keys the browser can report, no two alike."""
    chosen: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for action, (default, _) in ACTIONS.items():
        key = normalise(form.get(action, "") or default)
        if not KEY.match(key):
            errors[action] = [f"“{form.get(action)}” is not a key the workspace understands (e.g. ctrl+enter, alt+r, ?)."]
            continue
        clash = next((a for a, k in chosen.items() if k == key), None)
        if clash:
            errors[action] = [f"{key} is already the key for {clash}."]
            continue
        chosen[action] = key
    if errors:
        raise InputError(errors)
    return {a: k for a, k in chosen.items() if k != ACTIONS[a][0]}  # store only what differs

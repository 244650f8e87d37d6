"""One imported item -> a task ready to store: data, meta, annotations with their authors,
predictions (Label Studio's shorthands expanded), every result checked against the config."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from components import LabelConfig
from components.base import new_id

from app.storable import number, problem

SINGLE_VALUED = {"choices": lambda v: {"choices": [str(v)]}, "rating": lambda v: {"rating": int(v)},
                 "number": lambda v: {"number": float(v)}, "textarea": lambda v: {"text": [str(v)]}}


class ItemError(ValueError):
    pass


@dataclass
class Rules:
    config: LabelConfig
    required_keys: list[str]
    user_ids: set[int]
    user_emails: dict[str, int]
    importer_id: int
    attribute_unknown: bool = False  # unknown authors become the importing user
    prediction_fields: list[str] = field(default_factory=list)  # preannotated_from_fields
    media_keys: dict[str, str] = field(default_factory=dict)  # the data key an audio / video file fills
    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))


def normalize(raw: Any, rules: Rules) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ItemError(f"a task must be an object, not {type(raw).__name__}")
    has_data = bool(raw.get("data"))
    data = raw["data"] if has_data else dict(raw)
    if not isinstance(data, dict):
        raise ItemError("'data' must be an object")
    unstorable = problem(raw)
    if unstorable:
        raise ItemError(unstorable)
    missing = [k for k in rules.required_keys if k not in data]
    if missing:
        raise ItemError(f"no data key {', '.join(map(repr, missing))}, which the config needs "
                        f"(the task has: {', '.join(map(repr, list(data)[:10])) or 'none'})")
    annotations = raw.get("annotations", raw.get("completions", [])) if has_data else []
    predictions = raw.get("predictions", []) if has_data else []
    if not isinstance(annotations, list) or not isinstance(predictions, list):
        raise ItemError("'annotations' and 'predictions' must be lists")
    if rules.prediction_fields:
        predictions = predictions + [{"result": data.pop(f)} for f in rules.prediction_fields if f in data]
    meta = raw.get("meta", {}) if has_data else {}
    warnings: list[str] = []
    return {"data": data, "meta": meta if isinstance(meta, dict) else {},
            "created_at": timestamp(raw.get("created_at") if has_data else None, rules.now),
            "updated_at": timestamp(raw.get("updated_at") if has_data else None, rules.now),
            "annotations": [annotation(a, i, data, rules, warnings) for i, a in enumerate(annotations)],
            "predictions": [prediction(p, i, data, rules, warnings) for i, p in enumerate(predictions)],
            "warnings": warnings}


def timestamp(value: Any, fallback: dt.datetime) -> dt.datetime:
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            # in UTC now: year 1 at +01:00 (or 9999 at -01:00) is a moment no database holds
            return parsed.astimezone(dt.timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
        except (ValueError, OverflowError):
            pass
    return fallback


def checked(result: Any, where: str, data: dict, rules: Rules, warnings: list[str] | None = None) -> list:
    unstorable = problem(result)  # a prediction's result comes here without its task's check
    if unstorable:
        raise ItemError(f"{where}: result {unstorable}")
    errors, found = rules.config.check_results(result, data)
    if warnings is not None:
        warnings.extend(f"{where}: {w}" for w in found)
    if errors:
        raise ItemError(f"{where}: {errors[0]}" + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""))
    # a model's results often come without ids; regions need one (relations and reviews point at it)
    return [item if item.get("type") == "relation" or item.get("id") else {**item, "id": new_id()} for item in result]


def author(value: Any, where: str, rules: Rules) -> int:
    given = value
    candidates = [value.get("id"), value.get("email")] if isinstance(value, dict) else [value]  # older exports nest the user
    for candidate in candidates:
        if isinstance(candidate, int) and not isinstance(candidate, bool) and candidate in rules.user_ids:
            return candidate
        if isinstance(candidate, str) and candidate.strip().lower() in rules.user_emails:
            return rules.user_emails[candidate.strip().lower()]
    value = given
    if value is None or rules.attribute_unknown:
        return rules.importer_id
    raise ItemError(f"{where}: completed_by {value!r} is no user here (import with "
                    "attribute_unknown_authors=true to credit such annotations to yourself)")


def annotation(raw: Any, index: int, data: dict, rules: Rules, warnings: list[str] | None = None) -> dict[str, Any]:
    where = f"annotation {index}"
    if not isinstance(raw, dict):
        raise ItemError(f"{where} must be an object")
    lead = raw.get("lead_time", 0) or 0
    if isinstance(lead, bool) or not isinstance(lead, (int, float)):
        raise ItemError(f"{where}: lead_time must be a number of seconds")
    return {"result": checked(raw.get("result", []), where, data, rules, warnings),
            "completed_by": author(raw.get("completed_by"), where, rules),
            "was_cancelled": bool(raw.get("was_cancelled", False)),
            "ground_truth": bool(raw.get("ground_truth", False)),
            "lead_time": float(lead),
            "unique_id": str(raw.get("unique_id") or ""),
            "created_at": timestamp(raw.get("created_at"), rules.now),
            "updated_at": timestamp(raw.get("updated_at"), rules.now)}


def prediction(raw: Any, index: int, data: dict, rules: Rules, warnings: list[str] | None = None) -> dict[str, Any]:
    where = f"prediction {index}"
    if not isinstance(raw, dict):
        raise ItemError(f"{where} must be an object")
    score = raw.get("score")
    if score is not None and number(score) is None:
        raise ItemError(f"{where}: score must be a number")
    result = expand(raw.get("result", []), rules.config, where)
    version = raw.get("model_version")
    return {"result": checked(result, where, data, rules, warnings), "score": None if score is None else number(score),
            "model_version": "undefined" if version in (None, "") else str(version),
            "created_at": timestamp(raw.get("created_at"), rules.now)}


def expand(result: Any, config: LabelConfig, where: str) -> Any:
    """Label Studio's prediction shorthands: a list is used as is; a dict is one value for the first
    control that writes its key; a plain value goes to the first single-valued control."""
    if isinstance(result, str) and result.strip().startswith(("[", "{")):
        try:
            result = json.loads(result)  # a CSV cell holding JSON
        except ValueError:
            pass
    if isinstance(result, list):
        return result
    for control in config.controls:
        if isinstance(result, dict):
            if getattr(control, "value_key", None) in result:
                return [shorthand(control, result)]
        elif control.result_type in SINGLE_VALUED and result is not None:
            try:
                return [shorthand(control, SINGLE_VALUED[control.result_type](result))]
            except (TypeError, ValueError):
                break
    raise ItemError(f"{where}: result {str(result)[:60]!r} fits no control of the config")


def shorthand(control: Any, value: dict) -> dict[str, Any]:
    return {"id": new_id(), "from_name": control.name, "to_name": control.to_names[0],
            "type": control.result_type, "value": value}

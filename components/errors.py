"""Config errors a person can act on: where (line, tag, attribute) and what."""

from __future__ import annotations


class ConfigError(ValueError):
    def __init__(self, message: str, *, line: int | None = None, tag: str | None = None, attribute: str | None = None):
        self.message, self.line, self.tag, self.attribute = message, line, tag, attribute
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [f"line {self.line}" if self.line else "", f"<{self.tag}>" if self.tag else "",
                 f"attribute '{self.attribute}'" if self.attribute else ""]
        prefix = ", ".join(w for w in where if w)
        return f"{prefix}: {self.message}" if prefix else self.message

    def as_json(self) -> dict:
        return {"line": self.line, "tag": self.tag, "attribute": self.attribute, "message": self.message}


class ConfigInvalid(ConfigError):
    """Every error found in one config."""

    def __init__(self, errors: list[ConfigError]):
        self.errors = errors
        first = errors[0]
        super().__init__(first.message, line=first.line, tag=first.tag, attribute=first.attribute)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)

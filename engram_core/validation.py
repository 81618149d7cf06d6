"""Declarative request schemas: one declaration validates input and describes it in /openapi.json.

A ``Schema`` is a list of ``Field``s. ``Schema.parse(data)`` returns a clean dict (defaults filled,
strings trimmed, tags normalised) or raises ``Invalid(field, problem)``; ``Schema.json_schema()`` is the
JSON Schema the OpenAPI document publishes. Unknown fields are ignored (clients send extras).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import Invalid
from .timeutil import parse_ts

__all__ = ["Field", "Schema", "coerce_query"]

_MISSING: Any = object()
INT_MIN, INT_MAX = -(2**63), 2**63 - 1  # SQLite's INTEGER
# Published patterns: no NUL anywhere; "text" also needs one character Python's str.strip() keeps.
_WS = "\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
# Invisible format characters (zero-width space and joiners, direction marks, word joiner, BOM, soft
# hyphen): a "text" made only of these and whitespace is as empty as a whitespace-only one.
_INVISIBLE = "\\u00ad\\u180e\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff"
NO_NUL_PATTERN = "^[^\\u0000]*$"
TEXT_PATTERN = f"^[^\\u0000]*[^\\u0000{_WS}{_INVISIBLE}][^\\u0000]*$"
_BLANK = re.compile(f"[\\s{_INVISIBLE}]*")
BLANK_CHARS = _WS + _INVISIBLE  # for other published "one visible character" patterns


@dataclass(frozen=True)
class Field:
    """One input field.

    ``kind``: str, text (trimmed, non-empty), int, float, bool, timestamp, tags (list of strings, trimmed
    and lowercased), str_list, float_list, any, object. ``aliases`` are other accepted names.
    ``comma_separated``: a str_list also accepts one string of comma-separated items (``"read,write"``).
    """

    name: str
    kind: str
    required: bool = False
    default: Any = None
    min: float | None = None
    max: float | None = None
    max_len: int | None = None
    max_items: int | None = None
    choices: Sequence[str] | None = None
    aliases: Sequence[str] = ()
    nullable: bool = True
    comma_separated: bool = False
    help: str = ""
    check: Callable[[Any], Any] | None = field(default=None, compare=False)
    schema: Mapping[str, Any] | None = field(default=None, compare=False)

    def json_schema(self) -> dict[str, Any]:
        """The JSON Schema of this field: it admits exactly what ``parse`` accepts (``max_len`` counts
        characters, as ``maxLength`` does; an optional field's null is published as ``nullable``)."""
        base: dict[str, Any]
        if self.schema is not None:
            base = dict(self.schema)
        elif self.kind in {"str", "text"}:
            base = {"type": "string", "pattern": TEXT_PATTERN if self.kind == "text" else NO_NUL_PATTERN}
            if self.kind == "text":
                base["minLength"] = 1
            if self.max_len:
                base["maxLength"] = self.max_len
            if self.choices:
                base = {"type": "string", "enum": list(self.choices)}
        elif self.kind == "timestamp":
            base = {"type": "string", "format": "date-time"}
        elif self.kind == "int":
            base = {"type": "integer", "minimum": INT_MIN, "maximum": INT_MAX}
        elif self.kind == "float":
            base = {"type": "number"}
        elif self.kind == "bool":
            base = {"type": "boolean"}
        elif self.kind in {"tags", "str_list"}:
            item: dict[str, Any] = {"type": "string", "pattern": NO_NUL_PATTERN}
            if self.kind == "tags":
                item["maxLength"] = 100
            if self.choices:
                item = {"type": "string", "enum": list(self.choices)}
            base = {"type": "array", "items": item}
        elif self.kind == "float_list":
            base = {"type": "array", "items": {"type": "number"}, "minItems": 1}
        elif self.kind == "object":
            base = {"type": "object"}
        else:
            base = {}
        if self.kind in {"int", "float"}:
            if self.min is not None:
                base["minimum"] = self.min
            if self.max is not None:
                base["maximum"] = self.max
        if self.max_items is not None:
            base["maxItems"] = self.max_items
        if self.max_len and self.kind in {"str", "text"}:
            limit_note = f"At most {self.max_len} characters."
            base["description"] = f"{self.help} {limit_note}".strip()
        if self.help and "description" not in base:
            base["description"] = self.help
        if self.default is not None:
            base["default"] = self.default
        if self.accepts_null and base:
            base["nullable"] = True
        return base

    @property
    def accepts_null(self) -> bool:
        """Whether an explicit null is taken as "not given" (published as ``nullable``): optional fields
        whose published schema can say so; a required field, or one published without a type, refuses it."""
        return self.nullable and not self.required and (self.schema is None or "type" in self.schema)

    def parse(self, value: Any) -> Any:  # noqa: C901 - one branch per kind reads best
        name = self.name
        if value is None:
            if self.required:
                raise Invalid(name, "is required")
            return self.default
        kind = self.kind
        if kind in {"str", "text"}:
            if not isinstance(value, str):
                raise Invalid(name, "must be a string")
            if "\x00" in value:
                raise Invalid(name, "must not contain NUL characters")
            # Characters (code points), as JSON Schema's maxLength counts them; before trimming, as published.
            if self.max_len is not None and len(value) > self.max_len:
                raise Invalid(name, f"is longer than {self.max_len} characters")
            if kind == "text":
                value = value.strip()
                if _BLANK.fullmatch(value):
                    raise Invalid(name, "must not be empty (whitespace and zero-width characters only)")
            if self.choices is not None and value not in self.choices:
                raise Invalid(name, f"must be one of {', '.join(self.choices)}")
        elif kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise Invalid(name, "must be an integer")
            if not INT_MIN <= value <= INT_MAX:
                raise Invalid(name, "is out of range (64-bit integers only)")
            self._range(value)
        elif kind == "float":
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise Invalid(name, "must be a number")
            value = float(value)
            if not math.isfinite(value):
                raise Invalid(name, "must be finite")
            self._range(value)
        elif kind == "bool":
            if not isinstance(value, bool):
                raise Invalid(name, "must be true or false")
        elif kind == "timestamp":
            value = parse_ts(value, name)
        elif kind in {"tags", "str_list"}:
            if isinstance(value, str) and kind == "tags":
                value = [p for p in value.split(",")]
            elif isinstance(value, str) and self.comma_separated:
                value = [p.strip() for p in value.split(",") if p.strip()]
            if not isinstance(value, list):
                raise Invalid(name, "must be a list of strings")
            if self.max_items is not None and len(value) > self.max_items:
                raise Invalid(name, f"must have at most {self.max_items} items")
            out: list[str] = []
            for i, item in enumerate(value):
                if not isinstance(item, str):
                    raise Invalid(f"{name}[{i}]", "must be a string")
                if kind == "tags":
                    if len(item) > 100:  # as sent, like the published maxLength
                        raise Invalid(f"{name}[{i}]", "is longer than 100 characters")
                    item = item.strip().lower()
                    if not item:
                        continue
                    if "\x00" in item:
                        raise Invalid(f"{name}[{i}]", "must not contain NUL characters")
                    if item in out:
                        continue
                out.append(item)
            value = out
        elif kind == "float_list":
            if not isinstance(value, list) or not value:
                raise Invalid(name, "must be a non-empty list of numbers")
            if self.max_items is not None and len(value) > self.max_items:
                raise Invalid(name, f"must have at most {self.max_items} items")
            for i, item in enumerate(value):
                if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
                    raise Invalid(f"{name}[{i}]", "must be a finite number")
        elif kind == "object" and not isinstance(value, dict):
            raise Invalid(name, "must be an object")
        if self.check is not None:
            value = self.check(value)
        return value

    def _range(self, value: float) -> None:
        if self.min is not None and value < self.min:
            raise Invalid(self.name, f"must be at least {_num(self.min)}")
        if self.max is not None and value > self.max:
            raise Invalid(self.name, f"must be at most {_num(self.max)}")


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


class Schema:
    """An ordered set of fields describing a JSON object body or a query string."""

    def __init__(self, *fields: Field, description: str = "") -> None:
        self.fields = fields
        self.description = description

    def parse(self, data: Any, *, partial: bool = False) -> dict[str, Any]:
        """Validate ``data``. ``partial``: only fields present are returned (for PATCH-like updates)."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise Invalid("body", "must be a JSON object")
        out: dict[str, Any] = {}
        for f in self.fields:
            raw = _MISSING
            for key in (f.name, *f.aliases):
                if key in data:
                    raw = data[key]
                    break
            if raw is None and partial and f.accepts_null:
                raw = _MISSING  # a partial update's null leaves the field as it is, like leaving it out
            if raw is _MISSING:
                if partial:
                    continue
                raw = None
            elif raw is None and not f.required and not f.accepts_null:
                raise Invalid(f.name, "must not be null (leave it out for the default)")
            out[f.name] = f.parse(raw)
        return out

    def json_schema(self) -> dict[str, Any]:
        props = {f.name: f.json_schema() for f in self.fields}
        schema: dict[str, Any] = {"type": "object", "properties": props}
        required = [f.name for f in self.fields if f.required]
        if required:
            schema["required"] = required
        if self.description:
            schema["description"] = self.description
        return schema


_QUERY_TRUE = {"1", "true", "yes", "on"}
_QUERY_FALSE = {"0", "false", "no", "off"}


def coerce_query(schema: Schema, params: Mapping[str, str | list[str]]) -> dict[str, Any]:
    """Turn query-string values (all strings) into the types ``schema`` declares, then parse."""
    kinds = {f.name: f.kind for f in schema.fields}
    for f in schema.fields:
        for alias in f.aliases:
            kinds[alias] = f.kind
    out: dict[str, Any] = {}
    for name, raw in params.items():
        kind = kinds.get(name)
        if kind is None:
            continue
        values = raw if isinstance(raw, list) else [raw]
        value: Any = values[-1]
        try:
            if kind == "int":
                value = int(value)
            elif kind == "float":
                value = float(value)
            elif kind == "bool":
                low = value.strip().lower()
                if low not in _QUERY_TRUE | _QUERY_FALSE:
                    raise ValueError(value)
                value = low in _QUERY_TRUE
            elif kind in {"tags", "str_list"}:
                value = [p for v in values for p in v.split(",")]
        except ValueError:
            raise Invalid(name, f"cannot read {str(value)[:40]!r} as {kind}") from None
        out[name] = value
    return schema.parse(out)

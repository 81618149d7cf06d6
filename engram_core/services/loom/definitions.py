"""Workflow definitions: schemas, step validation (names, types, dependencies, no cycles) and the
inline ``transform`` step."""

from __future__ import annotations

import re
from typing import Any

from ...errors import Invalid
from ...validation import Field, Schema

__all__ = ["RUN", "RUNS", "STEP_COMPLETE", "STEP_FAIL", "WORKFLOW", "WORKFLOW_UPDATE", "check_steps", "transform"]

STEP_TYPES = ("action", "decision", "parallel", "wait", "webhook", "llm", "transform")
_STEPS_SCHEMA = {
    "type": "array",
    "minItems": 1,
    "maxItems": 100,
    "items": {
        "type": "object",
        "required": ["name", "type"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 50, "pattern": "^[A-Za-z0-9_.-]+$"},
            "type": {"type": "string", "enum": list(STEP_TYPES)},
            "config": {"type": "object"},
            "depends_on": {"type": "array", "items": {"type": "string"}},
            "max_retries": {"type": "integer", "minimum": 0, "maximum": 100},
            "timeout_ms": {"type": "integer", "minimum": 1, "maximum": 86_400_000},
        },
    },
    "description": "Steps; names unique, depends_on names earlier-or-later steps (no cycles).",
}
_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,200}$")


def _int(step: dict[str, Any], key: str, default: int, lo: int, hi: int, where: str) -> int:
    value = step.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise Invalid(f"{where}.{key}", f"must be an integer from {lo} to {hi}")
    return value


def check_steps(value: Any) -> list[dict[str, Any]]:
    """Normalised step definitions, or Invalid naming the step and field."""
    if not isinstance(value, list) or not value:
        raise Invalid("steps", "must be a non-empty list of steps")
    if len(value) > 100:
        raise Invalid("steps", "must have at most 100 steps")
    steps: list[dict[str, Any]] = []
    for i, raw in enumerate(value):
        where = f"steps[{i}]"
        if not isinstance(raw, dict):
            raise Invalid(where, "must be an object")
        name = raw.get("name")
        if not isinstance(name, str) or not _NAME.match(name):
            raise Invalid(f"{where}.name", "must be 1-200 letters, digits, _ . or -")
        if raw.get("type") not in STEP_TYPES:
            raise Invalid(f"{where}.type", f"must be one of {', '.join(STEP_TYPES)}")
        config = raw.get("config") or {}
        if not isinstance(config, dict):
            raise Invalid(f"{where}.config", "must be an object")
        deps = raw.get("depends_on") or []
        if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
            raise Invalid(f"{where}.depends_on", "must be a list of step names")
        steps.append({"name": name, "type": raw["type"], "config": config, "depends_on": list(dict.fromkeys(deps)),
                      "max_retries": _int(raw, "max_retries", 3, 0, 100, where),
                      "timeout_ms": _int(raw, "timeout_ms", 30000, 1, 86_400_000, where)})  # fmt: skip
    names = [s["name"] for s in steps]
    if len(set(names)) != len(names):
        raise Invalid("steps", "step names must be unique")
    for i, s in enumerate(steps):
        for dep in s["depends_on"]:
            if dep not in names or dep == s["name"]:
                raise Invalid(f"steps[{i}].depends_on", f"names no other step {dep!r}")
    _no_cycle(steps)
    return steps


def _no_cycle(steps: list[dict[str, Any]]) -> None:
    deps = {s["name"]: set(s["depends_on"]) for s in steps}
    done: set[str] = set()
    while len(done) < len(deps):
        ready = [n for n, d in deps.items() if n not in done and d <= done]
        if not ready:
            raise Invalid("steps", "depends_on forms a cycle")
        done.update(ready)


WORKFLOW = Schema(
    Field("name", "text", required=True, max_len=200),
    Field("description", "str", default="", max_len=4000),
    Field("steps", "any", required=True, check=check_steps, schema=_STEPS_SCHEMA),
    description="Define a workflow: steps with dependencies, retries and timeouts.",
)
WORKFLOW_UPDATE = Schema(
    Field("name", "text", max_len=200),
    Field("description", "str", max_len=4000),
    Field("steps", "any", check=check_steps, schema=_STEPS_SCHEMA),
    description="Change a workflow (runs already started keep their steps).",
)
RUN = Schema(
    Field("workflow_id", "int", min=1),
    Field("workflow_name", "str", max_len=200),
    Field("input", "object"),
    description="Start a run of a workflow (by id or name); ready steps start at once.",
)
RUNS = Schema(
    Field("workflow_id", "int", min=1),
    Field("status", "str", choices=("pending", "running", "completed", "failed", "cancelled")),
    Field("limit", "int", default=100, min=1, max=1000),
)
_NOT_NULL = {"anyOf": [{"type": t} for t in ("object", "array", "string", "number", "boolean")]}
STEP_COMPLETE = Schema(
    Field("output", "any", required=True, schema=_NOT_NULL, help="The step's output (any JSON but null)."),
    description="Complete a step.",
)
STEP_FAIL = Schema(Field("error", "text", required=True, max_len=4000), description="Fail a step (retried if it may).")


def _get(data: Any, path: str) -> Any:
    for part in path.split(".") if path else []:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


def _render(template: Any, data: Any) -> Any:
    if isinstance(template, str):
        whole = re.fullmatch(r"\{\{\s*([\w.]+)\s*\}\}", template)
        if whole:
            return _get(data, whole.group(1))
        return re.sub(r"\{\{\s*([\w.]+)\s*\}\}", lambda m: str(_get(data, m.group(1)) or ""), template)
    if isinstance(template, dict):
        return {k: _render(v, data) for k, v in template.items()}
    if isinstance(template, list):
        return [_render(v, data) for v in template]
    return template


def transform(config: dict[str, Any], data: Any) -> Any:
    """``config.mapping {"dst.path": "src.path"}``, or ``config.template`` ({{dot.path}}), or pass-through."""
    mapping = config.get("mapping")
    if isinstance(mapping, dict):
        out: dict[str, Any] = {}
        for dst, src in mapping.items():
            node = out
            parts = str(dst).split(".")
            for part in parts[:-1]:
                node = node.setdefault(part, {})
            node[parts[-1]] = _get(data, str(src))
        return out
    if "template" in config:
        return _render(config["template"], data)
    return data

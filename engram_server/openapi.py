"""/openapi.json built from the route declarations, so it describes exactly the routes served."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import BaseRoute

from engram_core import __version__

from .routing import RouteSpec

__all__ = ["build_openapi", "specs"]

_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")
_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
    "required": ["error"],
}


def specs(routes: list[BaseRoute]) -> list[RouteSpec]:
    return [r.spec for r in routes if hasattr(r, "spec")]  # type: ignore[attr-defined]


def _operation(spec: RouteSpec, method: str) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": spec.summary,
        "tags": [spec.tag],
        "operationId": f"{method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', spec.path).strip('_') or 'root'}",
        "x-engram-scope": spec.scope,
    }
    if spec.scope != "open":
        op["security"] = [{"bearer": []}]
    params: list[dict[str, Any]] = []
    for name, conv in _PARAM.findall(spec.path):
        params.append(
            {"name": name, "in": "path", "required": True, "schema": {"type": "integer" if conv == "int" else "string"}}
        )
    if spec.query is not None:
        for f in spec.query.fields:
            schema = f.json_schema()
            if schema.get("type") == "array":
                schema = {"type": "string", "description": "comma-separated"}
            params.append({"name": f.name, "in": "query", "required": f.required, "schema": schema})
    if params:
        op["parameters"] = params
    if spec.body is not None:
        op["requestBody"] = {
            "required": any(f.required for f in spec.body.fields),
            "content": {"application/json": {"schema": spec.body.json_schema()}},
        }
    ok = "201" if spec.scope != "read" and method == "POST" and spec.summary.lower().startswith(("store", "create")) else "200"
    responses: dict[str, Any] = {ok: {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}}
    err = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    codes = ["400", "413", "429"] if spec.body is not None else ["400", "429"]
    if spec.scope != "open":
        codes += ["401", "403"]
    if "{" in spec.path:
        codes.append("404")
    for code in sorted(set(codes)):
        responses[code] = err
    op["responses"] = responses
    return op


def build_openapi(routes: list[BaseRoute]) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for spec in specs(routes):
        path = _PARAM.sub(lambda m: "{" + m.group(1) + "}", spec.path)
        for method in spec.methods:
            paths.setdefault(path, {})[method.lower()] = _operation(spec, method)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Engram", "version": __version__, "description": "Cognitive memory server for LLM agents."},
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": _ERROR},
        },
    }

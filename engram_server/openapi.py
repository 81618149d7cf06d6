"""/openapi.json built from the route declarations, so it describes exactly the routes served."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import BaseRoute

from engram_core import __version__
from engram_core.validation import INT_MAX, NO_NUL_PATTERN

from .errors import STATUS
from .routing import RouteSpec

__all__ = ["build_openapi", "specs"]

_PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")
_ERROR = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "field": {"type": "string"}},
    "required": ["error"],
}


def specs(routes: list[BaseRoute]) -> list[RouteSpec]:
    return [r.spec for r in routes if hasattr(r, "spec")]


def _operation(spec: RouteSpec, method: str) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": spec.summary,
        "tags": [spec.tag],
        "operationId": f"{method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', spec.path).strip('_') or 'root'}",
        "x-engram-scope": spec.scope,
        "x-rate-cost": spec.cost,
    }
    if spec.scope != "open":
        op["security"] = [{"bearer": []}]
    params: list[dict[str, Any]] = []
    for name, conv in _PARAM.findall(spec.path):
        schema = {"type": "integer", "minimum": 0, "maximum": INT_MAX} if conv == "int" else {"type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    if spec.query is not None:
        for f in spec.query.fields:
            schema = f.json_schema()
            if schema.get("type") == "array":
                schema = {"type": "string", "pattern": NO_NUL_PATTERN, "description": "comma-separated"}
            params.append({"name": f.name, "in": "query", "required": f.required, "schema": schema})
    if params:
        op["parameters"] = params
    if spec.body is not None:
        op["requestBody"] = {
            "required": any(f.required for f in spec.body.fields),
            "content": {"application/json": {"schema": spec.body.json_schema()}},
        }
    elif spec.consumes:
        raw = {"type": "string", "format": "binary"}
        op["requestBody"] = {"required": True, "content": {t: {"schema": raw} for t in spec.consumes}}
    # Undeclared POST routes may create (201) or not (200, e.g. an entity that exists): both are documented
    # until the route declares ``ok``.
    oks = spec.ok or ((200, 201) if method == "POST" else (200,))
    body = {"type": "string", "format": "binary"} if spec.produces != "application/json" else {"type": "object"}
    if spec.ok_schema is not None:
        body = dict(spec.ok_schema)
    responses: dict[str, Any] = {
        str(code): {"description": "OK, no body"}
        if code in spec.no_body
        else {"description": "OK", "content": {spec.produces: {"schema": body}}}
        for code in oks
    }
    err = {"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    # Any route may answer any status of the one error table (a space_id on /store can be 404, a locked
    # database 503 anywhere), plus 404/405 from the router.
    for code in sorted({status for _, status in STATUS} | {404, 405}):
        responses[str(code)] = err
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

"""The dashboard at /ui: static assets shipped in the package (no build step), a strict CSP.

The page logs in with an API key kept in sessionStorage and sent as the bearer header on every API call
(no cookies, so no CSRF); the policy allows only this origin's own script, style and fetches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.responses import Response

from ..routing import ApiRequest, api

UI_DIR = Path(__file__).resolve().parent.parent / "ui"
UI_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self';"
    " frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def _asset(name: str, media_type: str) -> Response:
    return Response(
        (UI_DIR / name).read_bytes(),
        media_type=media_type,
        headers={"Content-Security-Policy": UI_CSP, "Cache-Control": "no-cache"},
    )


async def page(r: ApiRequest) -> Any:
    """The dashboard (log in with an API key)."""
    return _asset("index.html", "text/html")


async def script(r: ApiRequest) -> Any:
    """The dashboard's script."""
    return _asset("app.js", "text/javascript")


async def style(r: ApiRequest) -> Any:
    """The dashboard's style sheet."""
    return _asset("app.css", "text/css")


async def cytoscape(r: ApiRequest) -> Any:
    """Cytoscape.js (MIT, vendored from npm with its license in ui/vendor/) for the Graph page."""
    return _asset("vendor/cytoscape.min.js", "text/javascript")


routes = [
    api("/ui", page, scope="open", tag="health", produces="text/html"),
    api("/ui/app.js", script, scope="open", tag="health", produces="text/javascript"),
    api("/ui/app.css", style, scope="open", tag="health", produces="text/css"),
    api("/ui/vendor/cytoscape.min.js", cytoscape, scope="open", tag="health", produces="text/javascript"),
]

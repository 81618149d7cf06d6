"""Test helpers shared by the suites (imported as ``tests.helpers``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient


@dataclass
class Api:
    """A TestClient plus the keys of the users a test made."""

    client: TestClient
    admin_key: str

    def headers(self, key: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"} if key else {}

    def call(self, method: str, path: str, key: str | None = None, **kw: Any) -> Any:
        headers = {**self.headers(key), **kw.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kw)

    def user(self, name: str, scopes: tuple[str, ...] = ("read", "write")) -> str:
        r = self.call("POST", "/users", self.admin_key, json={"name": name, "scopes": list(scopes)})
        assert r.status_code == 201, r.text
        return str(r.json()["api_key"])

    def key(self, owner_key: str, scopes: tuple[str, ...]) -> str:
        r = self.call("POST", "/keys", owner_key, json={"scopes": list(scopes)})
        assert r.status_code == 201, r.text
        return str(r.json()["key"])

    def store(self, key: str, content: str, **fields: Any) -> int:
        r = self.call("POST", "/store", key, json={"content": content, **fields})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])

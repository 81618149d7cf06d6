"""Response bodies: orjson renders them; what JSON cannot carry still renders instead of failing with a 500."""

from __future__ import annotations

import json

import numpy as np

from engram_server.responses import JSONResponse


def _body(content: object) -> object:
    return json.loads(JSONResponse(content).body)


def test_plain_content_renders_as_compact_utf8_json() -> None:
    content = {"memory": {"id": 1, "content": "café ☕ 東京", "score": 0.125, "tags": ["a", "b"], "x": None}}
    raw = JSONResponse(content).body
    assert json.loads(raw) == content
    assert "café ☕ 東京".encode() in raw and b", " not in raw  # UTF-8, not \\u escapes; no padding


def test_numpy_values_and_int_keys_render() -> None:
    assert _body({"score": np.float32(0.5), "ids": np.array([1, 2]), 7: "seven"}) == {
        "score": 0.5,
        "ids": [1, 2],
        "7": "seven",
    }


def test_nan_and_infinity_become_null() -> None:
    assert _body({"a": float("nan"), "b": float("inf"), "c": 1.5}) == {"a": None, "b": None, "c": 1.5}


def test_a_lone_surrogate_becomes_the_replacement_character() -> None:
    assert _body({"content": "bad \ud800 text", "ok": "pair \U0001f600"}) == {
        "content": "bad \ufffd text",
        "ok": "pair \U0001f600",
    }

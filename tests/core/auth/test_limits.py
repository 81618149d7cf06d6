from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engram_core.auth.limits import check_json_depth, check_raw_json_depth, json_depth, raw_json_depth
from engram_core.errors import Invalid

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='ab[]{}"\\ ', max_size=6),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
    max_leaves=20,
)


def test_depth_definition() -> None:
    assert json_depth(1) == 0 and json_depth("x") == 0
    assert json_depth([]) == 1 and json_depth({}) == 1
    assert json_depth({"a": [1, {"b": []}]}) == 4
    assert raw_json_depth(b'{"a": [1, {"b": []}]}') == 4
    assert raw_json_depth('"[[[[" ') == 0
    assert raw_json_depth(b'{"k\\"[[": "]]"}') == 1


def test_very_deep_input_no_recursion_error() -> None:
    deep: list[object] = []
    cur = deep
    for _ in range(100_000):
        nxt: list[object] = []
        cur.append(nxt)
        cur = nxt
    assert json_depth(deep) == 100_001
    assert json_depth(deep, limit=32) == 33
    text = "[" * 100_000 + "]" * 100_000
    assert raw_json_depth(text) == 100_000
    with pytest.raises(Invalid) as err:
        check_raw_json_depth(text, 32)
    assert err.value.field == "body" and err.value.message == "body: JSON nested deeper than 32 levels"
    with pytest.raises(Invalid, match="JSON nested deeper than 32 levels"):
        check_json_depth(deep, 32)


def test_limits_at_the_boundary() -> None:
    value = [[[1]]]
    check_json_depth(value, 3)
    check_raw_json_depth(json.dumps(value), 3)
    with pytest.raises(Invalid):
        check_json_depth(value, 2)
    with pytest.raises(Invalid):
        check_raw_json_depth(json.dumps(value), 2)


def test_cycles_terminate() -> None:
    a: list[object] = []
    a.append(a)
    assert json_depth(a) == 1


@given(json_values)
def test_raw_depth_matches_parsed_depth(value: object) -> None:
    assert raw_json_depth(json.dumps(value)) == json_depth(value)
    assert raw_json_depth(json.dumps(value, ensure_ascii=False).encode()) == json_depth(value)

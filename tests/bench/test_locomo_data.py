"""The LoCoMo loader: date parsing and evidence repairs (on inline data, not the shared file)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bench.locomo_data import DEFAULT_PATH, load_locomo, parse_session_datetime, repair_evidence


def test_parse_session_datetime() -> None:
    assert parse_session_datetime("1:56 pm on 8 May, 2023") == "2023-05-08T13:56:00+00:00"
    assert parse_session_datetime("12:06 am on 11 November, 2022") == "2022-11-11T00:06:00+00:00"
    assert parse_session_datetime("10:04 am on 19 December,  2023") == "2023-12-19T10:04:00+00:00"


def test_repair_evidence() -> None:
    known = {"D8:6", "D9:17", "D11:26", "D1:1"}
    repairs: Counter[str] = Counter()
    assert repair_evidence("D8:6; D9:17", known, repairs) == ["D8:6", "D9:17"]
    assert repair_evidence("D:11:26", known, repairs) == ["D11:26"]
    assert repair_evidence("D", known, repairs) == []
    assert repair_evidence("D10:19", known, repairs) == []
    assert repair_evidence("D1:1", known, repairs) == ["D1:1"]
    assert repairs == Counter({"split": 1, "colon": 1, "unknown": 2})


def test_load_inline(tmp_path: Path) -> None:
    sample = {
        "sample_id": "s1",
        "conversation": {
            "speaker_a": "A",
            "speaker_b": "B",
            "session_2_date_time": "9:00 am on 2 May, 2023",
            "session_2": [{"speaker": "A", "dia_id": "D2:1", "text": "later"}],
            "session_1_date_time": "1:56 pm on 1 May, 2023",
            "session_1": [
                {"speaker": "A", "dia_id": "D1:1", "text": "hi", "blip_caption": "a photo"},
                {"speaker": "B", "dia_id": "D1:2", "text": "hello"},
            ],
        },
        "qa": [
            {"question": "q1", "answer": 2022, "evidence": ["D1:1; D2:1"], "category": 2},
            {"question": "q2", "answer": "x", "evidence": ["D1:2"], "category": 5},
            {"question": "q3", "answer": "x", "evidence": [], "category": 1},
            {"question": "q4", "answer": "x", "evidence": ["D:1:2", "D"], "category": 4},
        ],
    }
    path = tmp_path / "l.json"
    path.write_text(json.dumps([sample]))
    data = load_locomo(path)
    turns = data.turns["s1"]
    assert [t.dia_id for t in turns] == ["D1:1", "D1:2", "D2:1"]
    assert turns[0].text == "A: hi" and turns[0].created_at == "2023-05-01T13:56:00+00:00"
    assert turns[0].key == "s1/D1:1"
    assert [(q.question, q.evidence) for q in data.questions] == [
        ("q1", ("D1:1", "D2:1")),
        ("q4", ("D1:2",)),
    ]
    assert data.questions[0].answer == "2022"
    assert data.repairs == Counter({"split": 1, "colon": 1, "unknown": 1, "no_evidence": 1})


@pytest.mark.skipif(not DEFAULT_PATH.exists(), reason="shared LoCoMo file not present")
def test_shared_split_has_760_scored_questions() -> None:
    data = load_locomo()
    assert len(data.questions) == 760
    assert len(data.turns) == 5

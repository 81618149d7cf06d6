"""POST /ingest with real files: formats detected by content, chat timestamps and sessions kept, documents
chunked into episodes, hostile uploads refused with a clear 4xx and nothing written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engram_core.settings import Settings
from tests import ingest_files as files
from tests.conftest import BOOTSTRAP_SECRET
from tests.helpers import Api
from tests.support.tiny_models import install_tiny_model


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    made = Settings.for_data_dir(tmp_path / "data", bootstrap_secret=BOOTSTRAP_SECRET, ttl_sweep_seconds=3600.0,
                                 max_upload_bytes=2 * 1024 * 1024)  # fmt: skip
    install_tiny_model(made.models_dir)
    return made


def _upload(api: Api, key: str, name: str, content: bytes, **form: str) -> Any:
    return api.call("POST", "/ingest", key, files={"file": (name, content)}, data=form)


def _finish(api: Api, key: str, job_id: int) -> dict[str, Any]:
    api.client.portal.call(api.engram.jobs.drain)  # type: ignore[union-attr]
    job = api.call("GET", f"/jobs/{job_id}", key).json()
    assert job["status"] == "done", job
    return dict(job["ingest"])


def _memories(api: Api, key: str) -> list[dict[str, Any]]:
    return list(api.call("GET", "/list", key, params={"limit": 500}).json()["results"])


def test_markdown_html_pdf_and_chats_each_land_as_their_format(api: Api) -> None:
    key = api.user("alice")
    cases = [("handbook.md", files.MARKDOWN.encode(), "markdown"), ("page.html", files.HTML.encode(), "html"),
             ("tides.bin", files.pdf(["High tide at 06:12 in Brest.", "Low tide at 12:30 in Brest."]), "pdf"),
             ("conversations.json", files.chatgpt(), "chatgpt"), ("export.json", files.claude(), "claude"),
             ("notes.txt", b"Plain first paragraph about kelp.\n\nSecond paragraph about otters.", "text"),
             ("lines.data", b'{"content": "jsonl fact one about buoys"}\n{"text": "jsonl fact two", "tags": ["x"]}\n',
              "jsonl")]  # fmt: skip
    for name, content, fmt in cases:
        r = _upload(api, key, name, content)
        assert r.status_code == 202, (name, r.text)
        assert r.json()["format"] == fmt, (name, r.json())
        done = _finish(api, key, r.json()["job_id"])
        assert done["stored"] + done["duplicates"] == done["found"] > 0 and done["failed"] == 0, (name, done)
    mems = _memories(api, key)
    text = "\n".join(m["content"] for m in mems)
    assert "Ingrid" in text and "Fastnet" in text and "High tide at 06:12" in text and "Sungold" in text
    assert "navigation link" not in text and "banner" not in text and "tracking" not in text and "footer" not in text
    safety = next(m for m in mems if "moving crane" in m["content"])
    assert safety["content"].startswith("Harbour handbook > Safety") and {"harbour", "ops"} <= set(safety["tags"])
    assert safety["category"] == "guide"
    # ChatGPT: each message keeps its time, its conversation is the session; the system message is skipped.
    chat = sorted((m for m in mems if "conversation 1 message" in m["content"]), key=lambda m: m["created_at"])
    assert [m["created_at"][:19] for m in chat] == ["2023-11-15T22:13:20", "2023-11-15T22:14:20",
                                                   "2023-11-15T22:15:20", "2023-11-15T22:16:20"]  # fmt: skip
    assert {m["session_id"] for m in chat} == {"conv-1"} and chat[0]["content"].startswith("user: ")
    claude = next(m for m in mems if "Sungold" in m["content"])
    assert claude["created_at"].startswith("2024-03-05T09:02") and claude["content"].startswith("assistant: ")
    episodes = api.call("GET", "/episodes", key, params={"limit": 100}).json()["episodes"]
    titles = {e["title"] for e in episodes}
    assert {"Harbour handbook", "Lighthouse notes", "Tide tables", "Sailing chat 0", "Garden planning"} <= titles


def test_a_zip_of_everything_nested_in_folders(api: Api) -> None:
    key = api.user("alice")
    archive = files.zip_of({"notes/handbook.md": files.MARKDOWN.encode(), "web/page.html": files.HTML.encode(),
                            "chats/chatgpt/conversations.json": files.chatgpt(1, 2),
                            "chats/claude/conversations.json": files.claude(),
                            "docs/tides.pdf": files.pdf(["Spring tides follow the full moon."]),
                            "__MACOSX/._handbook.md": b"\x00\x05\x16\x07"})  # fmt: skip
    r = _upload(api, key, "everything.zip", archive)
    assert r.status_code == 202 and r.json()["format"] == "zip" and r.json()["documents"] == 5, r.text
    done = _finish(api, key, r.json()["job_id"])
    assert done["stored"] == done["found"]
    text = "\n".join(m["content"] for m in _memories(api, key))
    assert all(w in text for w in ("Ingrid", "Fastnet", "Sungold", "Spring tides", "sailing route"))


def test_json_text_and_duplicates_are_counted(api: Api) -> None:
    key = api.user("alice")
    body = {"text": "# Kelp\n\nKelp forests shelter otters.\n", "tags": ["sea"], "source": "notes"}
    first = api.call("POST", "/ingest", key, json=body)
    assert first.status_code == 202, first.text
    assert _finish(api, key, first.json()["job_id"])["stored"] == 1
    again = _finish(api, key, api.call("POST", "/ingest", key, json=body).json()["job_id"])
    assert again["stored"] == 0 and again["duplicates"] == 1
    mem = _memories(api, key)[0]
    assert mem["source"] == "notes" and "sea" in mem["tags"]


@pytest.mark.parametrize(
    ("name", "content", "field_part", "words"),
    [
        ("evil.zip", files.zip_of({"../../etc/evil.md": b"# owned"}), "../../etc/evil.md", "path traversal"),
        ("bomb.zip", files.zip_bomb(), "notes.txt", "zip bomb"),
        ("nested.zip", files.zip_of({"inner.zip": files.zip_of({"a.md": b"# a"})}), "inner.zip", "nested"),
        ("scan.pdf", files.scanned_pdf(), "scan.pdf", "no text layer"),
        ("broken.pdf", b"%PDF-1.7\nthis is not really a pdf", "broken.pdf", "PDF"),
        ("conversations.json", b'[{"mapping": {"a": 1}, "current_node": "a"}, {"title": "x"}]', "conversations.json[1]",
         "ChatGPT"),
        ("bin.dat", b"\x00\xff\xfe\x80 binary", "bin.dat", "UTF-8"),
        ("empty.txt", b"   \n", "file", "empty"),
        ("bad.jsonl", b'{"content": "ok"}\n{"content": 5}\n', "line 2", "required"),
    ],
)  # fmt: skip
def test_hostile_and_malformed_uploads_are_refused(api: Api, name: str, content: bytes, field_part: str,
                                                   words: str) -> None:  # fmt: skip
    key = api.user("alice")
    before = api.table_counts()
    r = _upload(api, key, name, content)
    assert r.status_code == 400, r.text
    assert field_part in r.json()["field"] and words in r.json()["error"], r.json()
    assert api.table_counts() == before


def test_upload_limits_and_cancel(api: Api) -> None:
    key = api.user("alice")
    big = _upload(api, key, "big.txt", b"word " * (600 * 1024))
    assert big.status_code == 413, big.text
    assert api.call("POST", "/ingest", key, json={"text": "x", "format": "docx"}).status_code == 400
    assert (
        api.call(
            "POST", "/ingest", key, content=b"--x\r\n", headers={"Content-Type": "multipart/form-data; boundary=x"}
        ).status_code
        == 400
    )
    api.client.portal.call(api.engram.jobs.stop)  # type: ignore[union-attr]
    r = _upload(api, key, "notes.md", files.MARKDOWN.encode())
    job_id = r.json()["job_id"]
    assert api.call("GET", f"/jobs/{job_id}", key).json()["ingest"]["found"] >= 4
    cancelled = api.call("POST", f"/jobs/{job_id}/cancel", key)
    assert cancelled.status_code == 200 and cancelled.json()["ingest"]["state"] == "cancelled", cancelled.text
    assert api.call("POST", f"/jobs/{job_id}/cancel", key).status_code == 409
    other = api.user("bob")
    assert api.call("GET", f"/jobs/{job_id}", other).status_code == 404
    assert _memories(api, key) == []


def test_ingest_stream_reports_progress_until_done(api: Api) -> None:
    key = api.user("alice")
    with api.client.stream("POST", "/ingest/stream", headers=api.headers(key),
                           files={"file": ("c.json", files.chatgpt(2, 6))}) as resp:  # fmt: skip
        assert resp.status_code == 200
        events = [line for line in resp.iter_lines() if line.startswith("event: ")]
    assert events[-1] == "event: done"
    assert len(_memories(api, key)) == 12


class _Forgetful(dict[str, Any]):
    """An ``IngestService._parsed`` that keeps nothing: the job runs as after a restart."""

    def __setitem__(self, key: str, value: Any) -> None:
        pass


def test_the_job_uses_what_submit_parsed_and_parses_the_upload_again_after_a_restart(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest = api.engram.ingest  # type: ignore[union-attr]
    parsed: list[str] = []
    real = ingest._parse
    monkeypatch.setattr(ingest, "_parse", lambda data, name, fmt: parsed.append(name) or real(data, name, fmt))
    export = files.chatgpt(3, 5)
    alice = api.user("alice")
    assert _finish(api, alice, _upload(api, alice, "conversations.json", export).json()["job_id"])["stored"] == 15
    assert parsed == ["conversations.json"]  # at submit only: the job took the submit's documents
    assert ingest._parsed == {}
    monkeypatch.setattr(ingest, "_parsed", _Forgetful())
    bob = api.user("bob")
    assert _finish(api, bob, _upload(api, bob, "conversations.json", export).json()["job_id"])["stored"] == 15
    assert parsed == ["conversations.json"] * 3  # submit, then the job from the kept upload

    def rows(key: str) -> list[tuple[Any, ...]]:
        return sorted((m["content"], m["created_at"], m["session_id"], m["category"], m["source"], tuple(m["tags"]))
                      for m in _memories(api, key))  # fmt: skip

    assert rows(alice) == rows(bob)

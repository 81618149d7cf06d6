from __future__ import annotations

import os
from pathlib import Path

import pytest

from engram_core.crypto.cli import main
from engram_core.crypto.keys import file_state
from engram_core.storage.connection import connect


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _count(db: Path, key: bytes | None) -> int:
    conn = connect(db, key=key)
    try:
        return int(conn.execute("SELECT count(*) FROM memories").fetchone()[0])
    finally:
        conn.close()


def test_keyfile_lifecycle(plain_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = ["--data-dir", str(plain_db.parent)]
    kf, kf2 = tmp_path / "k1", tmp_path / "k2"
    assert _run(capsys, "keygen", str(kf))[0] == 0
    assert _run(capsys, "keygen", str(kf2))[0] == 0
    code, _, err = _run(capsys, "keygen", str(kf))
    assert code == 1 and "refusing to overwrite" in err

    lance = plain_db.parent / "lance" / "u1_x.lance"  # plain vectors of ENGRAM_USE_LANCE_INDEX
    lance.mkdir(parents=True)
    (lance / "data").write_bytes(b"vectors")
    code, out, _ = _run(capsys, "encrypt", *data, "--mode", "keyfile", "--keyfile", str(kf))
    assert code == 0 and "encrypted" in out and "rows verified" in out
    assert "not encrypted" in out and not lance.parent.exists()
    assert file_state(plain_db) == "encrypted"
    code, out, _ = _run(capsys, "verify", *data, "--mode", "keyfile", "--keyfile", str(kf))
    assert code == 0 and "integrity ok" in out
    code, _, err = _run(capsys, "verify", *data)
    assert code == 1 and "ENGRAM_ENCRYPTION_MODE is none" in err

    backup = tmp_path / "b.db"
    code, out, _ = _run(capsys, "backup", str(backup), *data, "--mode", "keyfile", "--keyfile", str(kf))
    assert code == 0 and "encrypted with the same key" in out and file_state(backup) == "encrypted"

    old = ["--mode", "keyfile", "--keyfile", str(kf)]
    code, out, _ = _run(capsys, "rekey", *data, *old, "--new-keyfile", str(kf2))
    assert code == 0 and f"ENGRAM_KEYFILE={kf2}" in out
    assert _count(plain_db, kf2.read_bytes()) == 50

    code, out, _ = _run(capsys, "decrypt", *data, "--mode", "keyfile", "--keyfile", str(kf2))
    assert code == 0 and file_state(plain_db) == "plain" and _count(plain_db, None) == 50


def test_env_mode_via_environment(
    plain_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key, new = os.urandom(32), os.urandom(32)
    monkeypatch.setenv("ENGRAM_DB_PATH", str(plain_db))
    monkeypatch.setenv("ENGRAM_ENCRYPTION_MODE", "env")
    monkeypatch.setenv("ENGRAM_DB_KEY", key.hex())
    assert _run(capsys, "encrypt", "--keep-plain")[0] == 0
    assert plain_db.with_name("engram.db.plain.bak").exists()
    code, _, err = _run(capsys, "rekey")
    assert code == 2 and "ENGRAM_NEW_DB_KEY" in err
    monkeypatch.setenv("ENGRAM_NEW_DB_KEY", new.hex())
    assert _run(capsys, "rekey")[0] == 0
    code, _, err = _run(capsys, "verify")
    assert code == 1 and "wrong database key" in err
    monkeypatch.setenv("ENGRAM_DB_KEY", new.hex())
    assert _run(capsys, "verify")[0] == 0
    code, out, _ = _run(capsys, "status")
    assert code == 0 and "encrypted" in out


def test_usage_errors_exit_2(plain_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(capsys)[0] == 2
    assert _run(capsys, "frobnicate")[0] == 2
    assert _run(capsys, "--help")[0] == 0
    code, _, err = _run(capsys, "encrypt", "--db", str(plain_db))
    assert code == 2 and "encrypt needs --mode keyfile, env or yubikey" in err


def test_bad_keyfile_mode_exits_1(plain_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kf = tmp_path / "k"
    assert _run(capsys, "keygen", str(kf))[0] == 0
    os.chmod(kf, 0o644)
    code, _, err = _run(capsys, "encrypt", "--db", str(plain_db), "--mode", "keyfile", "--keyfile", str(kf))
    assert code == 1 and "has mode 0644" in err and "chmod 600" in err
    assert file_state(plain_db) == "plain"


def test_yubikey_mode_through_the_cli(
    plain_db: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real Argon2id parameters, the YubiKey replaced by a software HMAC-SHA1 of a known secret."""
    from engram_core.crypto import keys

    monkeypatch.setattr(keys, "YubiKeyResponder", lambda: keys.SoftwareResponder(b"slot 2 secret"))
    data = ["--db", str(plain_db), "--mode", "yubikey"]
    assert _run(capsys, "encrypt", *data)[0] == 0
    challenge = keys.challenge_path(plain_db).read_bytes()
    assert file_state(plain_db) == "encrypted"
    assert _run(capsys, "rekey", *data)[0] == 0
    assert keys.challenge_path(plain_db).read_bytes() != challenge  # a new challenge, a new key
    assert not plain_db.with_name("engram.db.challenge.new").exists()
    assert _run(capsys, "verify", *data)[0] == 0
    monkeypatch.setattr(keys, "YubiKeyResponder", lambda: keys.SoftwareResponder(b"another key"))
    code, _, err = _run(capsys, "verify", *data)
    assert code == 1 and "wrong database key" in err

from __future__ import annotations

import os
from pathlib import Path

import pytest

from engram_core.crypto.dbops import (
    DbOpError,
    backup_database,
    decrypt_database,
    encrypt_database,
    rekey_database,
    verify_database,
)
from engram_core.crypto.keys import (
    SoftwareResponder,
    challenge_path,
    file_state,
    generate_keyfile,
    open_check,
    resolve_key,
    unlock,
)
from engram_core.errors import Locked
from engram_core.settings import Settings
from engram_core.storage.connection import SQLITE_HEADER, connect
from tests.core.crypto.cryptohelp import FAST, SENTENCE, populate


def _raw_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db, db.with_name(db.name + "-wal")) if p.exists())


def _rows(db: Path, key: bytes | None) -> list[tuple[object, ...]]:
    conn = connect(db, key=key)
    try:
        rows = [tuple(r) for r in conn.execute("SELECT id, content FROM memories ORDER BY id")]
        hits = conn.execute("SELECT rowid FROM memories_fts WHERE memories_fts MATCH 'heron'").fetchall()
        assert [tuple(h) for h in hits] == [(1,)]
        return rows
    finally:
        conn.close()


def test_encrypted_file_has_no_header_and_no_plaintext(tmp_path: Path) -> None:
    db = tmp_path / "engram.db"
    key = os.urandom(32)
    conn = connect(db, key=key)
    populate(conn)
    # while the connection is open the rows sit in the -wal file: grep that too
    assert db.with_name("engram.db-wal").stat().st_size > 0
    raw = _raw_bytes(db)
    assert not raw.startswith(SQLITE_HEADER)
    assert SENTENCE.encode() not in raw and b"heron" not in raw and b"memories" not in raw
    conn.close()
    assert file_state(db) == "encrypted"
    assert SENTENCE.encode() not in _raw_bytes(db)
    assert _rows(db, key)[0] == (1, SENTENCE)


def _settings_for(mode: str, db: Path, tmp_path: Path) -> tuple[Settings, dict[str, object]]:
    extra: dict[str, object] = {}
    if mode == "keyfile":
        kf = generate_keyfile(tmp_path / "kf")
        s = Settings.for_data_dir(db.parent, encryption_mode="keyfile", keyfile=kf)
    elif mode == "env":
        s = Settings.for_data_dir(db.parent, encryption_mode="env", db_key=os.urandom(32).hex())
    else:
        s = Settings.for_data_dir(db.parent, encryption_mode="yubikey")
        extra = {"responder": SoftwareResponder(b"yubikey secret"), "argon2": FAST}
    return s, extra


@pytest.mark.parametrize("mode", ["keyfile", "env", "yubikey"])
def test_each_mode_creates_and_reopens(tmp_path: Path, mode: str) -> None:
    db = tmp_path / "data" / "engram.db"
    db.parent.mkdir()
    settings, extra = _settings_for(mode, db, tmp_path)
    key = unlock(settings, **extra)  # type: ignore[arg-type]
    assert key is not None and not db.exists()  # unlock never creates the database
    conn = connect(db, key=key)
    populate(conn)
    conn.close()
    open_check(settings, **extra)  # type: ignore[arg-type]
    assert unlock(settings, **extra) == key  # type: ignore[arg-type]
    assert _rows(db, key)[0] == (1, SENTENCE)
    assert SENTENCE.encode() not in _raw_bytes(db)
    if mode == "yubikey":
        assert challenge_path(db).exists()
        with pytest.raises(Locked, match="wrong database key"):
            unlock(settings, responder=SoftwareResponder(b"another yubikey"), argon2=FAST)


def test_wrong_key_no_key_and_plain_db_are_locked(plain_db: Path, tmp_path: Path) -> None:
    key = os.urandom(32)
    encrypt_database(plain_db, key)
    with pytest.raises(Locked, match="wrong database key"):
        connect(plain_db, key=os.urandom(32))
    wrong = Settings.for_data_dir(plain_db.parent, encryption_mode="env", db_key=os.urandom(32).hex())
    with pytest.raises(Locked, match="wrong database key"):
        open_check(wrong)
    with pytest.raises(Locked, match="is encrypted .* but ENGRAM_ENCRYPTION_MODE is none"):
        open_check(Settings.for_data_dir(plain_db.parent))
    with pytest.raises(Locked, match="the file is encrypted or not a database"):
        connect(plain_db)
    size = plain_db.stat().st_size
    assert file_state(plain_db) == "encrypted" and plain_db.stat().st_size == size

    other = tmp_path / "other" / "engram.db"
    other.parent.mkdir()
    connect(other).close()
    connect(other).execute("CREATE TABLE t (x)").connection.close()
    env = Settings.for_data_dir(other.parent, encryption_mode="env", db_key=key.hex())
    with pytest.raises(Locked, match=r"plain \(unencrypted\) database .* run `engram db encrypt --mode env`"):
        open_check(env)
    with pytest.raises(Locked, match="run `engram db encrypt`"):
        connect(other, key=key)


def test_keyfile_mode_0644_is_locked(plain_db: Path, keyfile: Path) -> None:
    encrypt_database(plain_db, keyfile.read_bytes())
    os.chmod(keyfile, 0o644)
    settings = Settings.for_data_dir(plain_db.parent, encryption_mode="keyfile", keyfile=keyfile)
    with pytest.raises(Locked, match=rf"keyfile {keyfile} has mode 0644.*chmod 600 {keyfile}"):
        open_check(settings)


def test_encrypt_decrypt_roundtrip_keeps_every_row(plain_db: Path) -> None:
    before = _rows(plain_db, None)
    key = os.urandom(32)
    result = encrypt_database(plain_db, key)
    assert result.tables["memories"] == 50 and result.user_version == 3 and result.backup is None
    assert file_state(plain_db) == "encrypted" and SENTENCE.encode() not in _raw_bytes(plain_db)
    assert _rows(plain_db, key) == before
    assert sorted(p.name for p in plain_db.parent.iterdir()) == ["engram.db"]
    decrypt_database(plain_db, key)
    assert file_state(plain_db) == "plain"
    assert _rows(plain_db, None) == before
    conn = connect(plain_db)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert sorted(p.name for p in plain_db.parent.iterdir()) == ["engram.db"]


def test_encrypt_keep_plain_and_refusals(plain_db: Path) -> None:
    key = os.urandom(32)
    result = encrypt_database(plain_db, key, keep_plain=True)
    assert result.backup == plain_db.with_name("engram.db.plain.bak")
    assert file_state(result.backup) == "plain"
    with pytest.raises(DbOpError, match="is encrypted, not plain: nothing to encrypt"):
        encrypt_database(plain_db, key)
    with pytest.raises(DbOpError, match="does not exist"):
        encrypt_database(plain_db.with_name("absent.db"), key)


def test_conversion_refuses_a_database_in_use(plain_db: Path) -> None:
    other = connect(plain_db)
    other.execute("BEGIN")
    other.execute("SELECT count(*) FROM memories").fetchone()
    try:
        with pytest.raises(DbOpError, match="in use"):
            encrypt_database(plain_db, os.urandom(32))
    finally:
        other.execute("COMMIT")
        other.close()
    assert file_state(plain_db) == "plain"


def test_rekey(plain_db: Path) -> None:
    before = _rows(plain_db, None)
    old, new = os.urandom(32), os.urandom(32)
    encrypt_database(plain_db, old)
    rekey_database(plain_db, old, new)
    with pytest.raises(Locked, match="wrong database key"):
        connect(plain_db, key=old)
    assert _rows(plain_db, new) == before
    with pytest.raises(DbOpError, match="same as the current key"):
        rekey_database(plain_db, new, new)
    assert sorted(p.name for p in plain_db.parent.iterdir()) == ["engram.db"]


def test_backup_of_encrypted_db_is_encrypted(plain_db: Path, tmp_path: Path) -> None:
    key = os.urandom(32)
    encrypt_database(plain_db, key)
    live = connect(plain_db, key=key)  # backup is online: a connection stays open and writes
    live.execute("INSERT INTO memories (content) VALUES ('written while backing up')")
    dest = tmp_path / "backups" / "copy.db"
    result = backup_database(plain_db, dest, key)
    live.close()
    assert result.tables["memories"] == 51
    assert file_state(dest) == "encrypted" and SENTENCE.encode() not in dest.read_bytes()
    assert (dest.stat().st_mode & 0o777) == 0o600
    assert _rows(dest, key)[-1] == (51, "written while backing up")
    with pytest.raises(Locked):
        connect(dest)
    with pytest.raises(DbOpError, match="exists already"):
        backup_database(plain_db, dest, key)


def test_backup_of_plain_db_and_yubikey_challenge(plain_db: Path, tmp_path: Path) -> None:
    dest = tmp_path / "plain-copy.db"
    backup_database(plain_db, dest)
    assert file_state(dest) == "plain" and _rows(dest, None) == _rows(plain_db, None)

    settings = Settings.for_data_dir(plain_db.parent, encryption_mode="yubikey")
    key = resolve_key(settings, responder=SoftwareResponder(b"yk"), argon2=FAST)
    assert key is not None
    encrypt_database(plain_db, key)
    dest2 = tmp_path / "yk-copy.db"
    backup_database(plain_db, dest2, key)
    assert challenge_path(dest2).read_bytes() == challenge_path(plain_db).read_bytes()


def test_verify(plain_db: Path) -> None:
    assert verify_database(plain_db).tables["tags"] == 50
    key = os.urandom(32)
    encrypt_database(plain_db, key)
    result = verify_database(plain_db, key)
    assert result.tables["memories"] == 50 and result.user_version == 3
    with pytest.raises(Locked, match="is encrypted; set ENGRAM_ENCRYPTION_MODE"):
        verify_database(plain_db)
    data = bytearray(plain_db.read_bytes())
    page = 4096 * 2 + 100  # inside the third page
    data[page : page + 16] = bytes(16)
    plain_db.write_bytes(bytes(data))
    with pytest.raises(DbOpError, match="failed its integrity check: .*(HMAC|hmac|malformed)"):
        verify_database(plain_db, key)

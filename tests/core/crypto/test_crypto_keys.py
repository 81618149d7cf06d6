from __future__ import annotations

import hashlib
import hmac
import os
import sys
import time
import types
from pathlib import Path

import pytest

from engram_core.crypto.keys import (
    ARGON2_DEFAULT,
    SoftwareResponder,
    YubiKeyResponder,
    challenge_path,
    derive_key,
    env_key,
    generate_keyfile,
    keyfile_key,
    load_challenge,
    resolve_key,
    yubikey_key,
)
from engram_core.errors import Locked
from engram_core.settings import Settings
from engram_core.storage.connection import connect
from tests.core.crypto.cryptohelp import FAST


def test_generate_keyfile_is_0600_32_bytes_and_never_overwrites(tmp_path: Path) -> None:
    path = generate_keyfile(tmp_path / "k")
    assert (path.stat().st_mode & 0o777) == 0o600
    assert len(path.read_bytes()) == 32
    assert keyfile_key(path) == path.read_bytes()
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="refusing to overwrite"):
        generate_keyfile(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o622])
def test_keyfile_open_to_group_or_other_is_refused(tmp_path: Path, mode: int) -> None:
    path = generate_keyfile(tmp_path / "k")
    os.chmod(path, mode)
    with pytest.raises(Locked) as err:
        keyfile_key(path)
    assert str(path) in err.value.message
    assert f"{mode:04o}" in err.value.message
    assert f"chmod 600 {path}" in err.value.message


def test_keyfile_wrong_size_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "short"
    path.write_bytes(b"x" * 31)
    os.chmod(path, 0o600)
    with pytest.raises(Locked, match="holds 31 bytes; a keyfile is exactly 32 raw bytes"):
        keyfile_key(path)
    with pytest.raises(Locked, match="does not exist: create one with `engram db keygen"):
        keyfile_key(tmp_path / "absent")


def test_env_key() -> None:
    key = os.urandom(32)
    assert env_key(key.hex()) == key
    assert env_key(f"  {key.hex().upper()}\n") == key
    with pytest.raises(Locked, match="ENGRAM_DB_KEY must be 64 hex characters, got 62"):
        env_key(key.hex()[:-2])
    with pytest.raises(Locked, match=r"64 hex characters \(0-9, a-f\)"):
        env_key("zz" * 32)
    with pytest.raises(Locked, match="ENGRAM_DB_KEY is empty"):
        env_key("")


def test_software_responder_matches_rfc2202() -> None:
    # RFC 2202 test case 2
    responder = SoftwareResponder(b"Jefe")
    digest = responder.hmac_sha1(b"what do ya want for nothing?")
    assert digest.hex() == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"


def test_challenge_created_once_beside_the_db(tmp_path: Path) -> None:
    db = tmp_path / "engram.db"
    first = load_challenge(db)
    path = challenge_path(db)
    assert path == tmp_path / "engram.db.challenge"
    assert len(first) == 32 and (path.stat().st_mode & 0o777) == 0o600
    assert load_challenge(db) == first


def test_missing_challenge_for_an_encrypted_db_is_locked(tmp_path: Path) -> None:
    db = tmp_path / "engram.db"
    connect(db, key=os.urandom(32)).close()
    with pytest.raises(Locked, match="challenge file .* is missing; it is needed to unlock"):
        load_challenge(db)
    assert not challenge_path(db).exists()


def test_yubikey_key_is_argon2id_of_the_response() -> None:
    challenge = os.urandom(32)
    secret = os.urandom(20)
    key = yubikey_key(challenge, SoftwareResponder(secret), FAST)
    response = hmac.new(secret, challenge, hashlib.sha1).digest()
    assert key == derive_key(response, challenge, FAST)
    assert len(key) == 32
    assert yubikey_key(challenge, SoftwareResponder(secret), FAST) == key
    assert yubikey_key(challenge, SoftwareResponder(b"other"), FAST) != key
    assert yubikey_key(os.urandom(32), SoftwareResponder(secret), FAST) != key


def test_real_argon2_parameters_once() -> None:
    assert (ARGON2_DEFAULT.memory_kib, ARGON2_DEFAULT.time_cost, ARGON2_DEFAULT.parallelism) == (65536, 3, 1)
    start = time.perf_counter()
    key = derive_key(b"\x01" * 20, b"\x02" * 32)
    assert time.perf_counter() - start < 5
    assert len(key) == 32 and key != derive_key(b"\x01" * 20, b"\x02" * 32, FAST)


def _fake_ykman(monkeypatch: pytest.MonkeyPatch, devices: list[object]) -> None:
    mods = {
        name: types.ModuleType(name)
        for name in (
            "ykman",
            "ykman.device",
            "yubikit",
            "yubikit.core",
            "yubikit.core.otp",
            "yubikit.yubiotp",
        )
    }
    mods["ykman.device"].list_all_devices = lambda types_: devices  # type: ignore[attr-defined]
    mods["yubikit.core.otp"].OtpConnection = object  # type: ignore[attr-defined]
    mods["yubikit.yubiotp"].SLOT = types.SimpleNamespace(ONE=1, TWO=2)  # type: ignore[attr-defined]
    mods["yubikit.yubiotp"].YubiOtpSession = object  # type: ignore[attr-defined]
    for name, mod in mods.items():
        monkeypatch.setitem(sys.modules, name, mod)


def test_yubikey_without_a_device_is_locked(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_ykman(monkeypatch, [])
    with pytest.raises(Locked, match="no YubiKey found: insert the YubiKey whose OTP slot 2"):
        YubiKeyResponder().hmac_sha1(b"c" * 32)


def test_yubikey_without_ykman_is_locked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ykman", None)
    monkeypatch.setitem(sys.modules, "ykman.device", None)
    with pytest.raises(Locked, match=r"yubikey-manager is not installed: pip install 'engram\[yubikey\]'"):
        YubiKeyResponder().hmac_sha1(b"c" * 32)


def test_resolve_key_per_mode(tmp_path: Path) -> None:
    assert resolve_key(Settings.for_data_dir(tmp_path)) is None
    key = os.urandom(32)
    assert resolve_key(Settings.for_data_dir(tmp_path, encryption_mode="env", db_key=key.hex())) == key
    kf = generate_keyfile(tmp_path / "kf")
    settings = Settings.for_data_dir(tmp_path, encryption_mode="keyfile", keyfile=kf)
    assert resolve_key(settings) == kf.read_bytes()
    yk = Settings.for_data_dir(tmp_path, encryption_mode="yubikey")
    k1 = resolve_key(yk, responder=SoftwareResponder(b"s"), argon2=FAST)
    assert k1 is not None and resolve_key(yk, responder=SoftwareResponder(b"s"), argon2=FAST) == k1

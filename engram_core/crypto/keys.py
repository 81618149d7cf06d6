"""Database key providers: where the 32-byte SQLCipher key comes from.

``ENGRAM_ENCRYPTION_MODE`` picks one provider:

``none``
    No key; the database is a plain SQLite file.
``keyfile``
    ``ENGRAM_KEYFILE`` holds exactly 32 raw random bytes (``engram db keygen PATH`` writes one). The file
    must not be readable or writable by group or other (``chmod 600``).
``env``
    ``ENGRAM_DB_KEY`` holds the key as 64 hex characters.
``yubikey``
    A YubiKey answers an HMAC-SHA1 challenge on OTP slot 2. The challenge is 32 random bytes kept beside the
    database as ``<db>.challenge`` (created on first use, before the database exists). The 20-byte response
    is stretched with Argon2id (64 MiB, 3 passes, 1 lane, 32-byte output) using the challenge itself as the
    salt: it is random, unique per database and already stored, so no second file is needed. The hardware
    step sits behind :class:`HmacResponder` so tests use :class:`SoftwareResponder`.

Every failure is a :class:`~engram_core.errors.Locked` error whose message names the file or setting and
the fix. The server calls :func:`unlock` once at startup and hands the key it returns to every
``connect``; it never creates a database, so a wrong key can never lead to a fresh empty database written
over the old one.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import Locked
from ..storage.connection import SQLITE_HEADER, connect, is_encrypted_file

__all__ = [
    "ARGON2_DEFAULT",
    "KEY_BYTES",
    "Argon2Params",
    "HmacResponder",
    "SoftwareResponder",
    "YubiKeyResponder",
    "challenge_path",
    "derive_key",
    "env_key",
    "file_state",
    "generate_keyfile",
    "keyfile_key",
    "load_challenge",
    "open_check",
    "resolve_key",
    "unlock",
    "yubikey_key",
]

KEY_BYTES = 32
CHALLENGE_BYTES = 32
MODES = ("none", "keyfile", "env", "yubikey")


@dataclass(frozen=True)
class Argon2Params:
    """Argon2id cost parameters. The defaults are the production ones; tests pass cheaper ones."""

    memory_kib: int = 64 * 1024
    time_cost: int = 3
    parallelism: int = 1
    hash_len: int = KEY_BYTES


ARGON2_DEFAULT = Argon2Params()


def derive_key(secret: bytes, salt: bytes, params: Argon2Params = ARGON2_DEFAULT) -> bytes:
    """Stretch ``secret`` into a 32-byte key with Argon2id (``argon2.low_level.hash_secret_raw``)."""
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(
        secret=secret,
        salt=salt,
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=params.hash_len,
        type=Type.ID,
    )


# -- keyfile ------------------------------------------------------------------------------------------


def keyfile_key(path: Path | str) -> bytes:
    """Read a keyfile: exactly 32 raw bytes, owner-only permissions (no group/other bits)."""
    path = Path(path).expanduser()
    try:
        st = path.stat()
    except FileNotFoundError:
        raise Locked(
            f"keyfile {path} does not exist: create one with `engram db keygen {path}` "
            "or set ENGRAM_KEYFILE to the right file"
        ) from None
    if not stat.S_ISREG(st.st_mode):
        raise Locked(f"keyfile {path} is not a regular file")
    perms = stat.S_IMODE(st.st_mode)
    if perms & 0o077:
        raise Locked(
            f"keyfile {path} has mode {perms:04o}, readable or writable by group or other; run `chmod 600 {path}`"
        )
    data = path.read_bytes()
    if len(data) != KEY_BYTES:
        raise Locked(
            f"keyfile {path} holds {len(data)} bytes; a keyfile is exactly {KEY_BYTES} raw bytes "
            f"(create one with `engram db keygen PATH`)"
        )
    return data


def generate_keyfile(path: Path | str) -> Path:
    """Write 32 random bytes to a new file ``path`` with mode 0600; never overwrites an existing file."""
    path = Path(path).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise FileExistsError(f"{path} exists already; refusing to overwrite a keyfile") from None
    try:
        os.fchmod(fd, 0o600)  # the umask may have removed bits, never added: make it exact
        os.write(fd, secrets.token_bytes(KEY_BYTES))
        os.fsync(fd)
    finally:
        os.close(fd)
    return path


# -- env ----------------------------------------------------------------------------------------------


def env_key(value: str) -> bytes:
    """Parse ``ENGRAM_DB_KEY``: exactly 64 hex characters (surrounding whitespace ignored)."""
    text = value.strip()
    if not text:
        raise Locked("ENGRAM_ENCRYPTION_MODE is env but ENGRAM_DB_KEY is empty; set it to 64 hex characters")
    if len(text) != 2 * KEY_BYTES:
        raise Locked(f"ENGRAM_DB_KEY must be 64 hex characters, got {len(text)} characters")
    try:
        return bytes.fromhex(text)
    except ValueError:
        raise Locked("ENGRAM_DB_KEY must be 64 hex characters (0-9, a-f)") from None


# -- yubikey ------------------------------------------------------------------------------------------


class HmacResponder(Protocol):
    """Something that answers an HMAC-SHA1 challenge: a YubiKey, or a software stand-in for tests."""

    def hmac_sha1(self, challenge: bytes) -> bytes:
        """The 20-byte HMAC-SHA1 of ``challenge`` under a secret the responder holds."""
        ...


class SoftwareResponder:
    """HMAC-SHA1 computed in software with a known secret (tests; also documents what the key does)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def hmac_sha1(self, challenge: bytes) -> bytes:
        return hmac.new(self._secret, challenge, hashlib.sha1).digest()


class YubiKeyResponder:
    """The real thing: HMAC-SHA1 challenge-response on OTP slot 2 through yubikey-manager (optional dep)."""

    def __init__(self, slot: int = 2) -> None:
        self.slot = slot

    def hmac_sha1(self, challenge: bytes) -> bytes:
        try:
            from ykman.device import list_all_devices
            from yubikit.core.otp import OtpConnection
            from yubikit.yubiotp import SLOT, YubiOtpSession
        except ImportError:
            raise Locked(
                "ENGRAM_ENCRYPTION_MODE is yubikey but yubikey-manager is not installed: "
                "pip install 'engram[yubikey]' (needs the libpcsclite-dev system package)"
            ) from None
        devices: list[Any] = list(list_all_devices([OtpConnection]))
        if not devices:
            raise Locked(
                "no YubiKey found: insert the YubiKey whose OTP slot 2 is programmed for "
                "HMAC-SHA1 challenge-response (ykman otp chalresp --generate 2)"
            )
        if len(devices) > 1:
            raise Locked(f"{len(devices)} YubiKeys found: leave only the one that unlocks this database")
        device = devices[0][0]
        slot = SLOT.TWO if self.slot == 2 else SLOT.ONE
        try:
            with device.open_connection(OtpConnection) as conn:
                response = YubiOtpSession(conn).calculate_hmac_sha1(slot, challenge)
        except Exception as exc:  # yubikit raises several types (CommandError, TimeoutError, OSError)
            raise Locked(
                f"the YubiKey did not answer the challenge on slot {self.slot} ({exc}); "
                "is the slot programmed for HMAC-SHA1 challenge-response, "
                "and was the key touched if the slot requires touch?"
            ) from None
        return bytes(response)


def challenge_path(db_path: Path | str) -> Path:
    """Where the YubiKey challenge of ``db_path`` lives: ``<db>.challenge``."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".challenge")


def load_challenge(db_path: Path | str, *, create: bool = True) -> bytes:
    """Read ``<db>.challenge``; create it (32 random bytes, mode 0600) when missing and allowed.

    A missing challenge is only created when the database is not encrypted yet (absent, empty or plain): for
    an encrypted database a new challenge would derive a different key, so that is a ``Locked`` error.
    """
    db_path = Path(db_path)
    path = challenge_path(db_path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        if not create or is_encrypted_file(db_path):
            raise Locked(
                f"YubiKey challenge file {path} is missing; it is needed to unlock {db_path}: "
                "restore it from the backup it was saved with"
            ) from None
        return write_new_challenge(path)
    if len(data) != CHALLENGE_BYTES:
        raise Locked(f"YubiKey challenge file {path} holds {len(data)} bytes, expected {CHALLENGE_BYTES}")
    return data


def write_new_challenge(path: Path) -> bytes:
    """Write a new random challenge (mode 0600, fsynced); an existing file wins a race."""
    data = secrets.token_bytes(CHALLENGE_BYTES)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return path.read_bytes()
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    return data


def yubikey_key(challenge: bytes, responder: HmacResponder, params: Argon2Params = ARGON2_DEFAULT) -> bytes:
    """Key = Argon2id(HMAC-SHA1 response to ``challenge``, salt = ``challenge``)."""
    response = responder.hmac_sha1(challenge)
    if len(response) != 20:
        raise Locked(f"the HMAC-SHA1 responder returned {len(response)} bytes, expected 20")
    return derive_key(response, challenge, params)


# -- one entry point ----------------------------------------------------------------------------------


def resolve_key(
    settings: Any,
    *,
    responder: HmacResponder | None = None,
    argon2: Argon2Params = ARGON2_DEFAULT,
    create_challenge: bool = True,
) -> bytes | None:
    """The 32-byte key the settings call for, or None when ``encryption_mode`` is ``none``.

    ``settings`` needs ``encryption_mode``, ``keyfile``, ``db_key`` and ``db_path`` (an
    :class:`~engram_core.settings.Settings`). ``responder`` replaces the YubiKey (tests);
    ``argon2`` replaces the Argon2id costs (tests only). Raises ``Locked`` with the fix on any problem.
    """
    mode = settings.encryption_mode
    if mode == "none":
        return None
    if mode == "keyfile":
        if settings.keyfile is None:
            raise Locked("ENGRAM_ENCRYPTION_MODE is keyfile but ENGRAM_KEYFILE is not set")
        return keyfile_key(settings.keyfile)
    if mode == "env":
        return env_key(settings.db_key or "")
    if mode == "yubikey":
        challenge = load_challenge(settings.db_path, create=create_challenge)
        return yubikey_key(challenge, responder or YubiKeyResponder(), argon2)
    raise Locked(f"unknown ENGRAM_ENCRYPTION_MODE {mode!r}: use one of {', '.join(MODES)}")


# -- startup check: the key must open the database; nothing here ever creates one --------------------


def file_state(path: Path | str) -> str:
    """``"missing"`` (absent or empty), ``"plain"`` (SQLite header) or ``"encrypted"`` (anything else)."""
    try:
        with open(path, "rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        return "missing"
    if not head:
        return "missing"
    return "plain" if head == SQLITE_HEADER else "encrypted"


def unlock(
    settings: Any,
    *,
    responder: HmacResponder | None = None,
    argon2: Argon2Params = ARGON2_DEFAULT,
) -> bytes | None:
    """Check that ``settings`` can open ``settings.db_path`` and return the key (None: plain database).

    * mode ``none`` and an encrypted file: ``Locked`` naming the setting to set;
    * a mode set and a plain file: ``Locked`` telling to run ``engram db encrypt``;
    * a key that does not open the file: ``Locked`` (wrong key);
    * a missing database: the key is returned and the caller creates the database encrypted with it.
    """
    db: Path = Path(settings.db_path)
    state = file_state(db)
    mode = settings.encryption_mode
    if mode == "none":
        if state == "encrypted":
            raise Locked(
                f"{db} is encrypted (or is not an SQLite database) but ENGRAM_ENCRYPTION_MODE is none; "
                "set ENGRAM_ENCRYPTION_MODE to keyfile, env or yubikey with its key, "
                "or run `engram db decrypt` to turn it back into a plain database"
            )
        return None
    if state == "plain":
        raise Locked(
            f"{db} is a plain (unencrypted) database but ENGRAM_ENCRYPTION_MODE is {mode}; "
            f"run `engram db encrypt --mode {mode}` to encrypt it, or set ENGRAM_ENCRYPTION_MODE=none"
        )
    key = resolve_key(settings, responder=responder, argon2=argon2)
    assert key is not None
    if state == "encrypted":
        conn = connect(db, key=key, read_only=True)
        conn.close()
    return key


def open_check(
    settings: Any,
    *,
    responder: HmacResponder | None = None,
    argon2: Argon2Params = ARGON2_DEFAULT,
) -> None:
    """Raise ``Locked`` with the fix when the configured key (or its absence) cannot open the database."""
    unlock(settings, responder=responder, argon2=argon2)

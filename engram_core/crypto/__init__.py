"""Encryption at rest: key providers (keyfile, env, YubiKey + Argon2id), the startup unlock check and the
offline database operations behind ``engram db``."""

from __future__ import annotations

from .keys import (
    ARGON2_DEFAULT,
    Argon2Params,
    HmacResponder,
    SoftwareResponder,
    YubiKeyResponder,
    challenge_path,
    derive_key,
    file_state,
    generate_keyfile,
    open_check,
    resolve_key,
    unlock,
)

__all__ = [
    "ARGON2_DEFAULT",
    "Argon2Params",
    "HmacResponder",
    "SoftwareResponder",
    "YubiKeyResponder",
    "challenge_path",
    "derive_key",
    "file_state",
    "generate_keyfile",
    "open_check",
    "resolve_key",
    "unlock",
]

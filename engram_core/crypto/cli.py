"""``engram db ...``: encrypt, decrypt, rekey, backup, verify, keygen, status.

Exit codes: 0 done, 1 the operation failed (nothing was changed), 2 bad usage or settings. Settings come
from the ``ENGRAM_*`` environment; ``--data-dir``, ``--db``, ``--mode`` and ``--keyfile`` override it.
Conversions (encrypt, decrypt, rekey) need the server stopped; backup and verify are safe while it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from ..errors import EngramError, Invalid
from ..settings import Settings
from . import keys
from .dbops import backup_database, decrypt_database, encrypt_database, fsync_dir, rekey_database, verify_database
from .keys import (
    MODES,
    challenge_path,
    env_key,
    file_state,
    generate_keyfile,
    keyfile_key,
    resolve_key,
    unlock,
    yubikey_key,
)

__all__ = ["build_parser", "main"]

NEW_KEY_ENV = "ENGRAM_NEW_DB_KEY"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``engram db``."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--data-dir", type=Path, help="data directory (ENGRAM_DATA_DIR)")
    common.add_argument("--db", type=Path, help="database file (ENGRAM_DB_PATH)")
    common.add_argument("--mode", choices=MODES, help="encryption mode (ENGRAM_ENCRYPTION_MODE)")
    common.add_argument("--keyfile", type=Path, help="keyfile for keyfile mode (ENGRAM_KEYFILE)")
    parser = argparse.ArgumentParser(prog="engram db", description="Database encryption and maintenance.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("encrypt", parents=[common], help="encrypt a plain database with the --mode key")
    p.add_argument("--keep-plain", action="store_true", help="keep the plain original as <db>.plain.bak")
    p = sub.add_parser("decrypt", parents=[common], help="turn an encrypted database back into a plain one")
    p.add_argument("--keep-encrypted", action="store_true", help="keep the original as <db>.encrypted.bak")
    p = sub.add_parser("rekey", parents=[common], help="re-encrypt under a new key")
    p.add_argument("--new-mode", choices=[m for m in MODES if m != "none"], help="default: the current mode")
    p.add_argument("--new-keyfile", type=Path, help="keyfile holding the new key (keyfile mode)")
    p = sub.add_parser("backup", parents=[common], help="consistent online copy, encrypted like the source")
    p.add_argument("path", type=Path, help="new file to write")
    sub.add_parser("verify", parents=[common], help="integrity check (and cipher check when encrypted)")
    p = sub.add_parser("keygen", help="write a new keyfile: 32 random bytes, mode 0600")
    p.add_argument("path", type=Path)
    sub.add_parser("status", parents=[common], help="show the database file, its state and the mode")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    if args.db is not None:
        overrides["db_path"] = args.db
    if args.mode is not None:
        overrides["encryption_mode"] = args.mode
    if args.keyfile is not None:
        overrides["keyfile"] = args.keyfile
    return Settings.from_env(**overrides)


def _new_key(args: argparse.Namespace, settings: Settings) -> tuple[bytes, str, Path | None]:
    """The rekey target: (key, what to configure afterwards, new challenge file to install or None)."""
    mode = args.new_mode or settings.encryption_mode
    if mode == "keyfile":
        if args.new_keyfile is None:
            raise Invalid("--new-keyfile", "rekey to keyfile mode needs --new-keyfile PATH")
        configure = f"ENGRAM_ENCRYPTION_MODE=keyfile ENGRAM_KEYFILE={args.new_keyfile}"
        return keyfile_key(args.new_keyfile), configure, None
    if mode == "env":
        if NEW_KEY_ENV not in os.environ:
            raise Invalid(NEW_KEY_ENV, "rekey to env mode reads the new key (64 hex characters) from it")
        configure = f"ENGRAM_ENCRYPTION_MODE=env ENGRAM_DB_KEY=<the value of {NEW_KEY_ENV}>"
        return env_key(os.environ[NEW_KEY_ENV]), configure, None
    if mode == "yubikey":
        staged = challenge_path(settings.db_path).with_suffix(".challenge.new")
        staged.unlink(missing_ok=True)
        challenge = keys.write_new_challenge(staged)
        try:
            key = yubikey_key(challenge, keys.YubiKeyResponder())
        except BaseException:
            staged.unlink(missing_ok=True)
            raise
        return key, "ENGRAM_ENCRYPTION_MODE=yubikey", staged
    raise Invalid("--new-mode", "must be keyfile, env or yubikey (use `engram db decrypt` for none)")


def _run(args: argparse.Namespace) -> int:
    if args.command == "keygen":
        path = generate_keyfile(args.path)
        print(f"wrote a new 32-byte keyfile {path} (mode 0600); keep a copy somewhere safe")
        return 0
    settings = _settings(args)
    db = settings.db_path
    mode = settings.encryption_mode
    if args.command == "status":
        print(f"database: {db}\nstate:    {file_state(db)}\nmode:     {mode}")
        return 0
    if args.command == "encrypt":
        if mode == "none":
            raise Invalid("--mode", "encrypt needs --mode keyfile, env or yubikey (or ENGRAM_ENCRYPTION_MODE)")
        key = resolve_key(settings)
        assert key is not None
        result = encrypt_database(db, key, keep_plain=args.keep_plain)
        kept = f"; plain original kept as {result.backup}" if result.backup else ""
        print(f"encrypted {db} ({mode} mode, {len(result.tables)} tables, {result.rows} rows verified){kept}")
        lance_dir = settings.data_dir / "lance"
        if lance_dir.is_dir():  # plain vectors derived from the database (ENGRAM_USE_LANCE_INDEX)
            shutil.rmtree(lance_dir)
            print(f"removed {lance_dir}: LanceDB's vector files are not encrypted")
        print(f"start the server with ENGRAM_ENCRYPTION_MODE={mode}")
        return 0
    if args.command == "decrypt":
        if mode == "none":
            raise Invalid("--mode", "decrypt needs the current --mode and its key (or ENGRAM_ENCRYPTION_MODE)")
        key = unlock(settings)
        assert key is not None
        result = decrypt_database(db, key, keep_encrypted=args.keep_encrypted)
        kept = f"; encrypted original kept as {result.backup}" if result.backup else ""
        print(f"decrypted {db} ({len(result.tables)} tables, {result.rows} rows verified){kept}")
        print("start the server with ENGRAM_ENCRYPTION_MODE=none")
        return 0
    if args.command == "rekey":
        if mode == "none":
            raise Invalid("--mode", "rekey needs the current --mode and its key (or ENGRAM_ENCRYPTION_MODE)")
        old = unlock(settings)
        assert old is not None
        new, configure, staged = _new_key(args, settings)
        try:
            result = rekey_database(db, old, new)
            if staged is not None:
                os.replace(staged, challenge_path(db))
                fsync_dir(challenge_path(db))  # the new challenge must survive a power loss with the rekeyed DB
        finally:
            if staged is not None:
                with contextlib.suppress(FileNotFoundError):
                    staged.unlink()
        print(f"rekeyed {db} ({result.rows} rows verified); the old key no longer opens it")
        print(f"start the server with {configure}")
        return 0
    key = unlock(settings)
    if args.command == "backup":
        result = backup_database(db, args.path, key)
        how = "encrypted with the same key" if key else "plain"
        print(f"backed up {db} to {result.path} ({how}, {result.rows} rows, integrity ok)")
        return 0
    result = verify_database(db, key)
    tables, rows, version = len(result.tables), result.rows, result.user_version
    print(f"{db}: integrity ok ({tables} tables, {rows} rows, user_version {version})")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``engram db``; returns the exit code (0 done, 1 failed, 2 usage)."""
    parser = build_parser()
    try:
        args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return int(exc.code or 0)
    try:
        return _run(args)
    except Invalid as exc:
        print(f"engram db: {exc.message}", file=sys.stderr)
        return 2
    except (EngramError, FileExistsError, OSError) as exc:
        message = exc.message if isinstance(exc, EngramError) else str(exc)
        print(f"engram db {args.command}: {message}", file=sys.stderr)
        return 1

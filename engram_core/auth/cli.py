"""``engram keys ...``: manage users and keys directly on the data dir (for the first key on a new box)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import EngramError
from ..settings import Settings
from ..storage.database import Database
from .context import AuthContext
from .keys import create_key, list_keys, revoke_key
from .users import create_user, list_users


def _open(args: argparse.Namespace) -> tuple[Settings, Database]:
    overrides: dict[str, Any] = {}
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
    settings = Settings.from_env(**overrides)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    from ..crypto.database import open_database

    return settings, open_database(settings)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="engram keys", description="Manage users and API keys locally.")
    parser.add_argument("--data-dir", help="data directory (ENGRAM_DATA_DIR)")
    sub = parser.add_subparsers(dest="command", required=True)
    create = sub.add_parser("create", help="create a key (and the user, if it does not exist)")
    create.add_argument("--user", default="admin", help="user name (default admin)")
    create.add_argument("--admin", action="store_true", help="admin user and key (scopes read,write,admin)")
    create.add_argument("--scopes", default="read,write", help="comma-separated scopes (default read,write)")
    create.add_argument("--name", default="cli", help="a label for the key")
    sub.add_parser("list", help="list users and their keys (no secrets)")
    revoke = sub.add_parser("revoke", help="revoke a key by id (a running server refuses it at once)")
    revoke.add_argument("key_id", type=int, help="the key's id (see `engram keys list`)")
    args = parser.parse_args(argv)
    try:
        settings, db = _open(args)
    except EngramError as exc:
        print(f"engram keys: {exc.message}")
        return 1
    pepper = settings.api_key_pepper
    try:
        if args.command == "create":
            scopes = ("read", "write", "admin") if args.admin else tuple(s.strip() for s in args.scopes.split(","))

            def tx(conn: Any) -> dict[str, Any]:
                local = AuthContext.local()
                row = conn.execute("SELECT id FROM users WHERE name = ?", (args.user,)).fetchone()
                if row is None:
                    made = create_user(conn, None, args.user, is_admin=args.admin, scopes=scopes, pepper=pepper)
                    return {"user_id": made["id"], "key": made["api_key"], "scopes": made["scopes"]}
                if args.admin:
                    conn.execute("UPDATE users SET is_admin = 1 WHERE id = ?", (row["id"],))
                key = create_key(conn, row["id"], scopes, pepper=pepper, name=args.name, auth=local)
                return {"user_id": row["id"], "key": key["key"], "scopes": key["scopes"]}

            made = db.write(tx)
            print(f"user {made['user_id']} ({args.user}), scopes {','.join(made['scopes'])}")
            print(made["key"])
            return 0
        if args.command == "revoke":
            db.write(lambda conn: revoke_key(conn, AuthContext.local(), args.key_id))
            print(f"key {args.key_id} revoked")
            return 0
        for user in db.read(list_users):
            print(f"user {user['id']} {user['name']}{' (admin)' if user['is_admin'] else ''}")
            uid: int = user["id"]
            for key in db.read(lambda conn, uid=uid: list_keys(conn, uid)):  # type: ignore[misc]
                state = (
                    "revoked"
                    if key["revoked_at"]
                    else ("expires " + key["expires_at"] if key["expires_at"] else "active")
                )
                print(f"  key {key['id']} engram_{key['prefix']}... {','.join(key['scopes'])} {state} {key['name']}")
        return 0
    except EngramError as exc:
        print(f"engram keys: {exc.message}")
        return 1
    finally:
        db.close()

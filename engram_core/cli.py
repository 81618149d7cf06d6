"""The ``engram`` command: ``engram serve``, ``engram keys ...``, ``engram models ...``, ``engram db ...``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print("usage: engram {serve,keys,models,db} ...")
        return 0
    command, rest = args[0], args[1:]
    if command == "serve":
        from engram_server.cli import serve_main

        return serve_main(rest)
    if command == "keys":
        from .auth.cli import main as keys_main

        return keys_main(rest)
    if command == "models":
        from .embeddings.cli import main as models_main

        return models_main(rest)
    if command == "db":
        from .crypto.cli import main as db_main

        return db_main(rest)
    print(f"engram: unknown command {command!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``engram`` command: ``engram serve``, ``engram keys ...``, ``engram models ...``, ``engram db ...``;
the client verbs (store, search, ..., hook, hooks, mcp) live in ``engram_client.cli``."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print("usage: engram {serve,keys,models,db} ...")
        print("       engram {store,search,context,recall,list,get,update,forget,delete,guard,ingest,export,import,")
        print("               bootstrap,health,hook,hooks,mcp} ...   (client verbs: engram VERB --help)")
        return 0
    command, rest = args[0], args[1:]
    from engram_client.cli import VERBS

    if command in VERBS:
        from engram_client.cli import main as client_main

        return client_main(args)
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

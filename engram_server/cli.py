"""``engram serve``: run the server with uvicorn (a command set of the ``engram`` command, see
``engram_core.cli``)."""

from __future__ import annotations

import argparse
from typing import Any

GRACEFUL_SHUTDOWN_SECONDS = 5
"""How long a stop (SIGTERM, Ctrl-C) waits for requests still running before cancelling them. Unbounded, one
request task that never ended (seen once: a server with no connection left idle in its shutdown for over 20
minutes after a test's SSE stream had closed) held the process forever. Writes are unaffected: each runs
whole on the write thread, and the lifespan then stops the background work and closes the database."""

KEEP_ALIVE_SECONDS = 75
"""How long an idle kept-alive connection stays open (uvicorn's default is 5 s). It must outlast the idle
expiry of the clients' connection pools (httpx 5 s, aiohttp 15 s, Node 4-5 s): a server that closes an idle
connection at the same moment a client reuses it resets the request the client just sent (``ReadError``).
With the event loop busy (64 concurrent agents on 2 cores) that window is tens of milliseconds wide:
bench/load.py saw 0-3 ReadErrors in about half its 64-client runs with 5 s. With 75 s (nginx's default)
the client always gives up an idle connection first."""


def serve_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="engram serve", description="Run the Engram server.")
    parser.add_argument("--host", help="listen address (ENGRAM_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port (ENGRAM_PORT, default 4200)")
    parser.add_argument("--data-dir", help="data directory (ENGRAM_DATA_DIR, default ./data)")
    args = parser.parse_args(argv)
    from engram_core.settings import Settings  # here, not at import: `engram hook` lists the command sets

    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port:
        overrides["port"] = args.port
    if args.data_dir:
        from pathlib import Path

        overrides["data_dir"] = Path(args.data_dir)
    settings = Settings.from_env(**overrides)

    import sys

    import uvicorn

    from engram_core.engram import Engram
    from engram_core.errors import EngramError

    from .app import create_app

    # Opened before uvicorn starts, so a startup error (a model mismatch, an unreachable embedding
    # endpoint, a wrong database key) is one clear line and exit status 1, not a lifespan traceback.
    try:
        engram = Engram.open(settings)
    except EngramError as exc:
        print(f"engram serve: {exc.message}", file=sys.stderr, flush=True)
        return 1
    try:
        app = create_app(settings, engram)
        print(f"engram: serving {settings.db_path} on http://{settings.host}:{settings.port}", flush=True)
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                    access_log=False, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
                    timeout_keep_alive=KEEP_ALIVE_SECONDS)  # fmt: skip
    finally:
        engram.close()
    return 0


COMMANDS = {"serve": serve_main}

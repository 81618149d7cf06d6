"""The ``engram`` command: ``engram keys|models|db ...`` here, every other command from the packages that
provide it, found by entry points (group ``engram.commands``) of the installed ``engram`` distribution.

The core knows no server and no client: ``engram_server`` provides ``serve`` and ``engram_client`` the
client verbs (store, search, ..., hook, hooks, mcp). Each entry point names a command set, a mapping of
command -> ``main(argv)`` where ``argv`` are the words after the command; each set lives in its own
module, one module per verb group. Only this distribution's own metadata is read (under a millisecond;
scanning every installed distribution costs a Claude Code hook, which runs ``engram hook``, ~100 ms).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from importlib import metadata

__all__ = ["COMMANDS", "GROUP", "commands", "main"]

GROUP = "engram.commands"
Main = Callable[[list[str]], int]


def _keys(argv: list[str]) -> int:
    from .auth.cli import main as keys_main

    return keys_main(argv)


def _models(argv: list[str]) -> int:
    from .embeddings.cli import main as models_main

    return models_main(argv)


def _db(argv: list[str]) -> int:
    from .crypto.cli import main as db_main

    return db_main(argv)


COMMANDS: dict[str, Main] = {"keys": _keys, "models": _models, "db": _db}


def _sets() -> list[metadata.EntryPoint]:
    try:
        found = metadata.distribution("engram").entry_points.select(group=GROUP)
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        return []
    return sorted(found, key=lambda ep: ep.name)


def commands() -> dict[str, Main]:
    """Every command: the core's, then those of each installed command set (a set may not replace them)."""
    out = dict(COMMANDS)
    for ep in _sets():
        provided: Mapping[str, Main] = ep.load()
        for name, fn in provided.items():
            out.setdefault(name, fn)
    return out


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    table = commands()
    if not args or args[0] in {"-h", "--help"}:
        print(f"usage: engram {{{','.join(table)}}} ...   (engram COMMAND --help)")
        return 0
    command, rest = args[0], args[1:]
    fn = table.get(command)
    if fn is None:
        print(f"engram: unknown command {command!r} (commands: {', '.join(table)})", file=sys.stderr)
        return 2
    return fn(rest)


if __name__ == "__main__":
    raise SystemExit(main())

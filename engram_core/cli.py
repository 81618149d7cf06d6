"""The ``engram`` command: ``engram keys|models|db ...`` here, every other command from the packages that
provide it, found by entry points (group ``engram.commands``) of the installed ``engram`` distribution.

The core knows no server and no client: ``engram_server`` provides ``serve`` and ``engram_client`` the
client verbs (store, search, ..., hook, hooks, mcp). Each entry point names a command set, a mapping of
command -> ``main(argv)`` where ``argv`` are the words after the command; each set lives in its own
module, one module per verb group. Only this distribution's own metadata is read (under a millisecond;
scanning every installed distribution costs a Claude Code hook, which runs ``engram hook``, ~100 ms).

Running one command loads the sets in name order only until one provides it (``engram hook``, the hot path of
every Claude Code event, loads the client's set alone, never the server's), and ``importlib.metadata`` (~10 ms
of imports) is imported only when the distribution's ``entry_points.txt`` cannot be read directly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from importlib import import_module

__all__ = ["COMMANDS", "GROUP", "command", "commands", "main"]

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


def _entry_points_txt() -> str | None:
    """The ``entry_points.txt`` of the first ``engram`` distribution on ``sys.path`` (as ``importlib.metadata``
    finds it: a ``engram-<version>.dist-info`` directory), or None when there is none to read that way."""
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        for name in names:
            if name.endswith(".egg-info") and name.split("-", 1)[0].lower() == "engram":
                return None  # an older layout: importlib.metadata reads it
            if name.endswith(".dist-info") and name.split("-", 1)[0].lower() == "engram":
                try:
                    with open(os.path.join(entry or ".", name, "entry_points.txt"), encoding="utf-8") as f:
                        return f.read()
                except OSError:
                    return None
    return None


def _parse_group(text: str) -> list[tuple[str, str]] | None:
    """(name, "module:attr") of GROUP's entries in an entry_points.txt (INI: ``[group]`` then ``name = value``
    lines); None when a line is not that simple form (the caller then asks importlib.metadata)."""
    found: list[tuple[str, str]] = []
    group = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1].strip()
        elif group == GROUP:
            name, sep, value = line.partition("=")
            module, colon, attr = value.strip().partition(":")
            if not sep or not colon or "[" in value or not module or not attr:
                return None
            found.append((name.strip(), value.strip()))
    return found


def _sets() -> list[tuple[str, str]]:
    """Each command set as (name, "module:attr"), in name order."""
    text = _entry_points_txt()
    parsed = None if text is None else _parse_group(text)
    if parsed is None:
        from importlib import metadata

        try:
            parsed = [(ep.name, ep.value) for ep in metadata.distribution("engram").entry_points.select(group=GROUP)]
        except metadata.PackageNotFoundError:  # running from a source tree that was never installed
            return []
    return sorted(parsed)


def _load(value: str) -> Mapping[str, Main]:
    module, _, attr = value.partition(":")
    obj: object = import_module(module.strip())
    for part in attr.strip().split("."):
        obj = getattr(obj, part)
    return obj  # type: ignore[return-value]


def _provided() -> Iterator[Mapping[str, Main]]:
    """The core's commands, then each command set's, loaded one at a time as the caller asks for the next."""
    yield COMMANDS
    for _name, value in _sets():
        yield _load(value)


def commands() -> dict[str, Main]:
    """Every command: the core's, then those of each installed command set (a set may not replace them)."""
    out: dict[str, Main] = {}
    for provided in _provided():
        for name, fn in provided.items():
            out.setdefault(name, fn)
    return out


def command(name: str) -> Main | None:
    """The command called ``name`` (the first set in name order that provides it wins, as in commands()),
    loading no set after that one."""
    for provided in _provided():
        fn = provided.get(name)
        if fn is not None:
            return fn
    return None


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in {"-h", "--help"}:
        print(f"usage: engram {{{','.join(commands())}}} ...   (engram COMMAND --help)")
        return 0
    name, rest = args[0], args[1:]
    fn = command(name)
    if fn is None:
        print(f"engram: unknown command {name!r} (commands: {', '.join(commands())})", file=sys.stderr)
        return 2
    return fn(rest)


if __name__ == "__main__":
    raise SystemExit(main())

"""The ``engram`` client verbs, dispatched from the ``engram`` command.

engram store | search | context | recall | list | get | update | forget | delete
engram guard | ingest | export | import | bootstrap | health
engram hook <Event>          # a Claude Code hook (reads the event on stdin)
engram hooks install|uninstall [--project|--user]
engram mcp                   # the MCP server on stdio
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse

    from .common import Verb

__all__ = ["COMMANDS", "VERBS", "main"]

VERBS = frozenset(
    ("store", "search", "context", "recall", "list", "get", "update", "forget", "delete", "guard", "ingest",
     "export", "import", "bootstrap", "health", "hook", "hooks", "mcp")
)  # fmt: skip


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Verb]]:
    import argparse  # not at import: `engram hook` (every Claude Code event) never parses client verbs

    from . import memory, ops, retrieval
    from .common import add_connection

    parser = argparse.ArgumentParser(prog="engram", description="Talk to an Engram server over its REST API.")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")

    def add(name: str, help: str) -> Any:
        p = sub.add_parser(name, help=help, description=help)
        add_connection(p)
        return p

    verbs: dict[str, Verb] = {}
    for module in (memory, retrieval, ops):
        verbs.update(module.register(add))
    return parser, verbs


def main(argv: list[str]) -> int:
    """Run one client verb; the exit code."""
    if argv and argv[0] == "hook":  # the hot path of every Claude Code event: standard library only
        from ..hook import main as hook_main

        return hook_main(argv[1:])
    if argv and argv[0] == "hooks":
        from .hooks import main as hooks_main

        return hooks_main(argv[1:])
    if argv and argv[0] == "mcp":
        from .mcp import main as mcp_main

        return mcp_main(argv[1:])
    from .common import run_verb

    parser, verbs = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2, --help exits 0
        return int(exc.code or 0)
    verb: Verb = verbs[args.verb]
    return run_verb(verb, args)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


def _verb(name: str) -> Callable[[list[str]], int]:
    def run(argv: list[str]) -> int:
        return main([name, *argv])

    return run


# The client's command set of the ``engram`` command (entry point group engram.commands, see engram_core.cli).
COMMANDS: dict[str, Callable[[list[str]], int]] = {verb: _verb(verb) for verb in sorted(VERBS)}

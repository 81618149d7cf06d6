"""Packages you can understand alone: the import graph of engram_core between its subpackages has no cycle.

The rule, read from the source with ``ast`` (nothing is imported):

* Every import counts: module level, inside a function, and under ``if TYPE_CHECKING:`` (a type-only
  import is still a design dependency; a function-level import that hides a cycle is still a cycle).
* A node is a subpackage of engram_core (``engram_core.search``) or a top-level module
  (``engram_core.errors``). Imports inside one subpackage are its own business.
* The composition root (``engram.py``, ``cognitive.py``, ``cli.py``) may import everything; no other
  module may import it (services get what they need as constructor arguments).
* No cycle between nodes. Dependency direction: storage <- crypto, auth <- model (the shared vocabulary:
  visibility rule, owned-memory lookup, link rows, FTS match) <- decay, memories <- graph, search,
  organize, personality <- intelligence, services, admin.
* engram_core never imports engram_server or engram_client.
* No module imports a private name (``_name``) of another subpackage: what a neighbour needs is made
  public and documented in its module.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

CORE = Path(__file__).resolve().parents[2] / "engram_core"
ROOTS = frozenset({"engram", "cognitive", "cli"})
# Subpackages that still import the root, each with the reason; the list may only shrink.
KNOWN_ROOT_IMPORTS: dict[str, str] = {}

Edges = dict[str, dict[str, list[str]]]


def _module_name(path: Path) -> tuple[list[str], bool]:
    parts = list(path.relative_to(CORE.parent).with_suffix("").parts)
    is_pkg = parts[-1] == "__init__"
    return (parts[:-1] if is_pkg else parts), is_pkg


def _imported(path: Path, text: str | None = None) -> list[tuple[int, str]]:
    """``(line, absolute module)`` for every import in the file (or ``text`` read as that file), wherever it is."""
    parts, is_pkg = _module_name(path)
    out: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text() if text is None else text, str(path))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts if is_pkg else parts[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((node.lineno, target))
            out += [(node.lineno, f"{target}.{a.name}") for a in node.names]  # from pkg import module
    return out


def _node(module: str) -> str | None:
    """The graph node of an engram_core module (its subpackage, or itself if top-level)."""
    parts = module.split(".")
    if parts[0] != "engram_core" or len(parts) < 2:
        return None
    name = parts[1]
    if (CORE / name / "__init__.py").exists() or (CORE / f"{name}.py").exists():
        return name
    return None


def _graph() -> tuple[Edges, list[str]]:
    edges: Edges = defaultdict(lambda: defaultdict(list))
    foreign: list[str] = []
    for path in sorted(CORE.rglob("*.py")):
        parts, _ = _module_name(path)
        source = _node(".".join(parts)) if len(parts) > 1 else None
        for line, target in _imported(path):
            where = f"{path.relative_to(CORE.parent)}:{line}"
            if target.split(".")[0] in {"engram_server", "engram_client"}:
                foreign.append(f"{where} imports {target}")
            dest = _node(target)
            if source is None or dest is None or dest == source:
                continue
            if where not in edges[source][dest]:
                edges[source][dest].append(where)
    return edges, foreign


def _cycles(edges: Edges) -> list[list[str]]:
    """One cycle per strongly connected component of more than one node (Tarjan), as a node path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp: set[str] = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                components.append(comp)

    nodes = set(edges) | {w for targets in edges.values() for w in targets}
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    cycles = []
    for comp in components:
        start = min(comp)
        path, seen = [start], {start}
        while True:  # walk inside the component until a node repeats: that closes a cycle
            nxt = sorted(w for w in edges[path[-1]] if w in comp)
            step = next((w for w in nxt if w not in seen), nxt[0])
            if step in seen:
                cycles.append(path[path.index(step) :] + [step])
                break
            path.append(step)
            seen.add(step)
    return cycles


def _explain(edges: Edges, cycle: list[str]) -> str:
    lines = [" -> ".join(cycle)]
    for a, b in zip(cycle, cycle[1:], strict=False):
        lines.append(f"  {a} -> {b}: " + ", ".join(edges[a][b][:3]))
    return "\n".join(lines)


def test_no_cycle_between_subpackages() -> None:
    edges, _ = _graph()
    # the known root imports are the next test's business (an exception there, not a cycle here)
    graph: Edges = {
        a: {b: w for b, w in bs.items() if not (a in KNOWN_ROOT_IMPORTS and b in ROOTS)} for a, bs in edges.items()
    }
    cycles = _cycles(graph)
    assert not cycles, "import cycles in engram_core:\n" + "\n".join(_explain(edges, c) for c in cycles)


def test_no_subpackage_imports_the_composition_root() -> None:
    edges, _ = _graph()
    found = {a: [w for r in ROOTS for w in edges[a].get(r, [])] for a in edges if a not in ROOTS}
    found = {a: where for a, where in found.items() if where}
    unexpected = {a: where for a, where in found.items() if a not in KNOWN_ROOT_IMPORTS}
    assert not unexpected, f"modules importing the composition root ({', '.join(sorted(ROOTS))}): {unexpected}"
    fixed = set(KNOWN_ROOT_IMPORTS) - set(found)
    assert not fixed, f"no longer import the root, remove from KNOWN_ROOT_IMPORTS: {sorted(fixed)}"


def test_the_core_never_imports_the_server_or_the_client() -> None:
    _, foreign = _graph()
    assert not foreign, foreign


def _private_imports(path: Path, text: str | None = None) -> list[str]:
    """``file:line imports module._name`` for each private name ``path`` takes from another subpackage."""
    parts, _ = _module_name(path)
    source = _node(".".join(parts)) if len(parts) > 1 else None
    found = []
    for line, target in _imported(path, text):
        module, _, name = target.rpartition(".")
        if name.startswith("_") and not name.startswith("__") and _node(module) not in (None, source):
            found.append(f"{path.relative_to(CORE.parent)}:{line} imports {target}")
    return found


def test_no_module_imports_another_subpackages_private_names() -> None:
    found = [hit for path in sorted(CORE.rglob("*.py")) for hit in _private_imports(path)]
    assert not found, "private names used across subpackages (make them public and documented):\n" + "\n".join(found)


def test_the_private_import_check_sees_one() -> None:
    """The rule itself: brain reaching into intelligence.feedback._rate is reported; its own _x is not."""
    text = "from ...intelligence.feedback import _rate as rate_memory\nfrom .service import _x\n"
    assert _private_imports(CORE / "services" / "brain" / "service.py", text) == [
        "engram_core/services/brain/service.py:1 imports engram_core.intelligence.feedback._rate"
    ]


def test_the_checker_sees_cycles_hidden_in_functions_and_type_checking() -> None:
    """The rule itself: a function-level or TYPE_CHECKING-only back edge is reported, with its path."""
    edges: Edges = defaultdict(lambda: defaultdict(list))
    edges["memories"]["graph"].append("engram_core/memories/writes.py:3 (inside a function)")
    edges["graph"]["memories"].append("engram_core/graph/links.py:9 (under TYPE_CHECKING)")
    edges["search"]["memories"].append("engram_core/search/facets.py:8")
    assert _cycles(edges) == [["graph", "memories", "graph"]]
    assert "graph -> memories -> graph" in _explain(edges, _cycles(edges)[0])
    # and the reader sees both kinds in real files
    assert "engram_core.crypto.database" in {t for _, t in _imported(CORE / "auth" / "cli.py")}  # in a function
    assert "engram_core.vector_index.ann" in {t for _, t in _imported(CORE / "vector_index" / "index.py")}

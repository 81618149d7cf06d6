"""No HTTP in the core: engram_core imports no server and no web framework, its services return values (the
route decides the status), every request schema is declared once, in the core, and the test models live
in tests/, not in the package."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import engram_core
from engram_core.validation import Schema
from engram_server.app import all_routes
from engram_server.routing import RouteSpec

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "engram_core"
FORBIDDEN = ("engram_server", "engram_client", "starlette", "uvicorn")


def _core_modules() -> list[tuple[Path, ast.Module]]:
    return [(p, ast.parse(p.read_text(), str(p))) for p in sorted(CORE.rglob("*.py"))]


def test_the_core_imports_no_server_client_or_web_framework() -> None:
    bad = []
    for path, tree in _core_modules():
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            bad += [f"{path.relative_to(ROOT)}:{node.lineno} {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert not bad, bad


def _status_like(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, int) and 100 <= node.value <= 599


def test_core_services_return_values_not_status_tuples() -> None:
    bad = []
    for path, tree in _core_modules():
        for node in ast.walk(tree):
            value = node.value if isinstance(node, ast.Return) else None
            if isinstance(value, ast.Tuple) and value.elts:
                first = value.elts[0]
                if _status_like(first) or (isinstance(first, ast.IfExp) and _status_like(first.body)):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, bad


def test_every_route_schema_is_declared_once_in_the_core() -> None:
    declared: dict[int, str] = {}
    for mod in pkgutil.walk_packages(engram_core.__path__, "engram_core."):
        for name, value in vars(importlib.import_module(mod.name)).items():
            if isinstance(value, Schema):
                declared.setdefault(id(value), f"{mod.name}.{name}")
    specs: list[RouteSpec] = [r.spec for r in all_routes()]  # type: ignore[attr-defined]
    outside = [
        f"{'/'.join(s.methods)} {s.path} {kind}"
        for s in specs
        for kind, schema in (("body", s.body), ("query", s.query))
        if schema is not None and id(schema) not in declared
    ]
    assert not outside, outside
    server_sources = "\n".join(p.read_text() for p in (ROOT / "engram_server").rglob("*.py"))
    assert "Schema(" not in server_sources.replace("Schema | None", "")


def test_test_models_live_in_tests_not_in_the_package() -> None:
    assert not (CORE / "embeddings" / "testing.py").exists()
    assert (ROOT / "tests" / "support" / "tiny_models.py").exists()


def test_engram_command_offers_serve_and_the_core_verbs_without_the_core_importing_the_server() -> None:
    code = (
        "import sys; from engram_core.cli import commands; names = commands(); "
        "print(sorted(k for k in ('serve', 'keys', 'models', 'db', 'store') if k in names)); "
        "print('engram_server' in sys.modules and 'engram_server.app' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "['db', 'keys', 'models', 'serve', 'store']"
    assert out[1] == "False"  # discovering `serve` does not load the app
    usage = subprocess.run([sys.executable, "-m", "engram_core.cli", "--help"], capture_output=True, text=True)
    assert usage.returncode == 0 and "serve" in usage.stdout and "keys" in usage.stdout
    serve_help = subprocess.run(
        [sys.executable, "-m", "engram_core.cli", "serve", "--help"], capture_output=True, text=True
    )
    assert serve_help.returncode == 0 and "--port" in serve_help.stdout
    unknown = subprocess.run([sys.executable, "-m", "engram_core.cli", "nope"], capture_output=True, text=True)
    assert unknown.returncode == 2 and "unknown command" in unknown.stderr


def test_command_sets_read_from_entry_points_txt_are_importlib_metadata_s() -> None:
    from importlib import metadata

    from engram_core import cli

    found = metadata.distribution("engram").entry_points.select(group=cli.GROUP)
    expected = sorted((ep.name, ep.value) for ep in found)
    text = cli._entry_points_txt()
    assert text is not None and cli._parse_group(text) is not None  # the fast path is the one taken here
    assert cli._sets() == expected and [n for n, _ in expected] == ["client", "server"]
    simple = "# c\n[console_scripts]\nengram = engram_core.cli:main\n\n[engram.commands]\nb = m.x:C\na=n:D.E\n"
    assert cli._parse_group(simple) == [("b", "m.x:C"), ("a", "n:D.E")]
    assert cli._parse_group("[engram.commands]\nc = m:C [extra]\n") is None  # extras: importlib.metadata decides
    assert cli._parse_group("[engram.commands]\nc = m\n") is None
    assert cli.command("keys") is cli.COMMANDS["keys"] and cli.command("hook") is not None
    assert cli.command("nope") is None

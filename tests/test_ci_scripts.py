"""The README's test command (scripts/test, which .ci/run calls) runs the whole lint before pytest."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _commands(path: str) -> list[str]:
    lines = (ROOT / path).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def test_ci_runs_the_readme_test_command() -> None:
    assert "scripts/test" in _commands(".ci/run")
    assert "scripts/test" in (ROOT / "README.md").read_text()


def test_scripts_test_runs_scripts_lint_before_pytest() -> None:
    commands = _commands("scripts/test")
    lint = next(i for i, c in enumerate(commands) if c.endswith('scripts/lint"') or c.endswith("scripts/lint"))
    pytest_at = next(i for i, c in enumerate(commands) if "pytest" in c)
    assert lint < pytest_at


def test_scripts_lint_runs_ruff_check_format_check_and_mypy() -> None:
    joined = "\n".join(_commands("scripts/lint"))
    assert 'ruff" check' in joined
    assert 'ruff" format --check' in joined
    assert "mypy" in joined
    # a failing step stops the script (set -e comes from _venv.sh, sourced first)
    assert "set -euo pipefail" in (ROOT / "scripts/_venv.sh").read_text()
    assert _commands("scripts/lint")[0].startswith("source ")

"""The hook module: one implementation (hooks/engram_hook.py is its copy), standard library only, redaction."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

from engram_client import hook
from engram_client.hook import decisions_in, is_trivial, project_of, redact

ROOT = Path(__file__).resolve().parents[2]


def test_the_standalone_script_is_the_same_file() -> None:
    copy, source = ROOT / "hooks" / "engram_hook.py", Path(hook.__file__)
    assert copy.read_bytes() == source.read_bytes(), "run: cp engram_client/hook.py hooks/engram_hook.py"


def test_the_hook_imports_only_the_standard_library() -> None:
    tree = ast.parse(Path(hook.__file__).read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert names - {"__future__"} <= set(sys.stdlib_module_names), names


def test_redact_removes_tokens_keys_and_passwords() -> None:
    secrets = [
        "sk-proj-abcdefghijklmnop1234",
        "ghp_ABCDEFGHIJKLMNOPQRSTuvwxyz0123",
        "AKIAIOSFODNN7EXAMPLE",
        "engram_0123456789abcdef0123456789abcdef",
        "hunter2hunter2",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "p4ssw0rd!",
        "xoxb-123456789012-abcdefghij",
    ]
    text = (
        f"export OPENAI_API_KEY={secrets[0]}; git push https://me:{secrets[1]}@github.com/x/y\n"
        f"aws_access_key_id = {secrets[2]}\ncurl -H 'Authorization: Bearer {secrets[3]}' http://h\n"
        f'{{"password": "{secrets[4]}"}}\ntoken: {secrets[5]}\nmysql -u root --password={secrets[6]}\n'
        f"SLACK={secrets[7]}\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
    )
    clean = redact(text)
    for secret in secrets:
        assert secret not in clean, secret
    assert "MIIEow" not in clean
    assert "git push" in clean and "github.com/x/y" in clean and "mysql -u root" in clean
    assert redact("pytest -q tests/core && ruff check .") == "pytest -q tests/core && ruff check ."


def test_trivial_prompts_and_decisions() -> None:
    for prompt in ("ok", "yes!", "continue", "/compact", "thanks", "go"):
        assert is_trivial(prompt), prompt
    assert not is_trivial("how do we deploy payments?")
    text = "I looked at both. We decided to use Postgres for the ledger. The tests pass.\nGoing with blue-green."
    assert decisions_in(text) == ["We decided to use Postgres for the ledger.", "Going with blue-green."]


def test_project_is_the_git_root(tmp_path: Path) -> None:
    (tmp_path / "billing" / ".git").mkdir(parents=True)
    (tmp_path / "billing" / "src" / "api").mkdir(parents=True)
    assert project_of(str(tmp_path / "billing" / "src" / "api")) == "billing"
    assert project_of(str(tmp_path / "loose")) == "loose"

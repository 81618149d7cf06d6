from __future__ import annotations

from pathlib import Path

import pytest

from engram_core.errors import Invalid
from engram_core.settings import DECLARATIONS, Settings, markdown_table

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented() -> None:
    docs = (ROOT / "README.md").read_text() + (ROOT / "docs" / "settings.md").read_text()
    missing = [s.name for s in DECLARATIONS if s.name not in docs]
    assert not missing, f"undocumented settings: {missing}; regenerate docs/settings.md"


def test_settings_doc_is_current() -> None:
    assert markdown_table() in (ROOT / "docs" / "settings.md").read_text(), "run: python -m engram_core.settings"


def test_env_parsing_and_defaults(tmp_path: Path) -> None:
    s = Settings.from_env({"ENGRAM_PORT": "5100", "ENGRAM_OPEN_ACCESS": "yes", "ENGRAM_DATA_DIR": str(tmp_path),
                           "ENGRAM_ALLOWED_ORIGINS": "http://a, http://b"})  # fmt: skip
    assert s.port == 5100 and s.open_access is True and s.allowed_origins == ("http://a", "http://b")
    assert s.db_path == tmp_path / "engram.db" and s.models_dir == tmp_path / "models"
    assert Settings.from_env({}).host == "127.0.0.1"
    with pytest.raises(Invalid, match="ENGRAM_PORT"):
        Settings.from_env({"ENGRAM_PORT": "many"})
    with pytest.raises(Invalid, match="ENGRAM_OPEN_ACCESS"):
        Settings.from_env({"ENGRAM_OPEN_ACCESS": "maybe"})
    assert "s3cret" not in repr(Settings.from_env({"ENGRAM_BOOTSTRAP_SECRET": "s3cret"}))

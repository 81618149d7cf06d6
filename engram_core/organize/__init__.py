"""User-curated structure over memories: projects, episodes, conversations (and shared helpers)."""

from __future__ import annotations

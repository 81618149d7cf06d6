"""Rule-based (and optional LLM) intelligence over memories: guardrails, extraction (/add), reflection,
consolidation, memory health, feedback. Personality signals live in :mod:`engram_core.personality`."""

"""The optional LLM: an OpenAI-compatible chat client with a budget and a circuit breaker."""

from __future__ import annotations

from .client import LlmClient, parse_json_reply

__all__ = ["LlmClient", "parse_json_reply"]

"""Hybrid search: channels, question-type strategy, fusion, boosts, context assembly."""

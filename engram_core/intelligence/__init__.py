"""Rule-based intelligence over memory text: personality signals, facts, contradictions, ..."""

"""Coordination services for agent teams: axon (events), webhooks, chiasm (tasks), broca (action log),
soma (agents), loom (workflows), thymus (quality), brain and digests. Each package owns its tables."""

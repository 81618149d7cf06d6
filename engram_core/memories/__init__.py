"""Memories: the store pipeline, reads, versions and lifecycle (forget, archive, trash, TTL, purge)."""

"""Portability: a user's whole memory out as NDJSON and back in (export/import), and bulk ingestion."""

"""Benchmark scripts: each prints figures (quality, latency, throughput, load)."""

"""One TLS context per process for every outgoing HTTP client (LLM, embedder, proxy, webhooks).

Building a context loads the CA bundle: ~50 ms of CPU each time. httpx does it for every client it makes,
so an LLM call (one client per call) or a server start (one client per service) paid it again and again.
An ``SSLContext`` is safe to share between clients and threads.
"""

from __future__ import annotations

import ssl
from functools import lru_cache

import httpx

__all__ = ["tls_context"]


@lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """The process's TLS context: httpx's defaults (certifi's CA bundle, or SSL_CERT_FILE / SSL_CERT_DIR)."""
    return httpx.create_ssl_context()

"""Requests to this machine go direct: no environment proxy for a loopback URL.

httpx (like urllib) sends even a ``127.0.0.1`` request through ``http_proxy`` / ``HTTPS_PROXY`` /
``ALL_PROXY`` unless ``NO_PROXY`` names the host, and a proxy elsewhere cannot reach this machine's
loopback: an Ollama or vLLM on ``localhost`` behind a corporate proxy setting would fail. Every outgoing
client (the LLM, a remote embedder, the chat proxy's providers, and ``engram_client``) mounts the loopback
hosts it talks to on its own direct transport. A remote URL keeps the environment's proxy, and nothing
else of ``trust_env`` changes (``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` still apply).

Standard library only: the Claude Code hook (``engram_client.hook``) imports this on every event.
"""

from __future__ import annotations

import urllib.parse

__all__ = ["direct_mounts", "is_loopback"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a URL's hostname) names this machine: 127.x.y.z, localhost (and *.localhost), ::1
    (not a DNS name like 127.example.com)."""
    host = host.lower()
    octets = host.split(".")
    ipv4 = len(octets) == 4 and octets[0] == "127" and all(o.isdigit() for o in octets)
    return ipv4 or host in ("localhost", "::1") or host.endswith(".localhost")


def direct_mounts(*urls: str) -> dict[str, None]:
    """httpx ``mounts`` sending each loopback host among ``urls`` on the client's own direct transport
    (``None``: the client's transport), the same rule as ``NO_PROXY=<host>`` (a host mount wins over the
    scheme mounts httpx makes for the proxy variables). Remote and empty URLs get no mount."""
    mounts: dict[str, None] = {}
    for url in urls:
        host = urllib.parse.urlsplit(url.strip()).hostname or ""
        if host and is_loopback(host):
            mounts[f"all://[{host}]" if ":" in host else f"all://{host}"] = None
    return mounts

"""Every ``ENGRAM_*`` setting, declared once: name, type, default and help.

The declarations drive environment parsing, defaults and the settings table in ``docs/settings.md``
(a test checks that every declared setting is documented). Read settings with
``Settings.from_env()``; tests build them with ``Settings.from_env({...})`` or ``Settings.for_data_dir``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import Invalid

__all__ = ["DECLARATIONS", "Setting", "Settings"]


@dataclass(frozen=True)
class Setting:
    """One declared setting. ``kind`` is one of str, int, float, bool, path, list."""

    name: str
    kind: str
    default: Any
    help: str

    @property
    def attr(self) -> str:
        return self.name.removeprefix("ENGRAM_").lower()


_S = Setting

DECLARATIONS: tuple[Setting, ...] = (
    # server
    _S("ENGRAM_HOST", "str", "127.0.0.1", "Address the server listens on."),
    _S("ENGRAM_PORT", "int", 4200, "TCP port the server listens on."),
    _S("ENGRAM_DATA_DIR", "path", "./data", "Directory holding the database, models cache and backups."),
    _S("ENGRAM_DB_PATH", "path", None, "SQLite database file. Default: <data dir>/engram.db."),
    _S("ENGRAM_LOG_LEVEL", "str", "info", "Log level: debug, info, warning, error."),
    _S("ENGRAM_MAX_BODY_BYTES", "int", 2 * 1024 * 1024, "Largest request body accepted (bytes)."),
    _S("ENGRAM_MAX_STORE_BODY_BYTES", "int", 256 * 1024, "Largest body accepted by the store routes (bytes)."),
    _S("ENGRAM_MAX_JSON_DEPTH", "int", 32, "Deepest JSON nesting accepted in a request body."),
    _S("ENGRAM_MAX_UPLOAD_BYTES", "int", 64 * 1024 * 1024, "Largest upload accepted by POST /ingest and POST /import."),
    _S("ENGRAM_INGEST_BATCH", "int", 64, "Chunks embedded and written per transaction by an ingest job."),
    _S("ENGRAM_ALLOWED_ORIGINS", "list", "", "Comma-separated origins allowed by CORS. Empty: CORS off."),
    # storage
    _S("ENGRAM_READ_POOL_SIZE", "int", 4, "Number of read-only SQLite connections."),
    _S("ENGRAM_BUSY_TIMEOUT_MS", "int", 5000, "SQLite busy timeout (milliseconds)."),
    _S("ENGRAM_TTL_SWEEP_SECONDS", "float", 60.0, "Interval of the sweep that forgets memories past forget_after."),
    _S("ENGRAM_TRASH_RETENTION_DAYS", "float", 30.0, "Days a trashed memory is kept before POST /admin/gc purges it."),
    _S("ENGRAM_JOBS_START_DELAY", "float", 0.0, "Seconds after startup before the job queue runs jobs (tests)."),
    _S("ENGRAM_REVIEW_FLUSH_SECONDS", "float", 3.0, "Interval of the flush of implicit FSRS reviews (recalls)."),
    # auth
    _S("ENGRAM_BOOTSTRAP_SECRET", "str", "", "Secret for the one-shot POST /bootstrap. Empty: bootstrap disabled."),
    _S("ENGRAM_API_KEY_PEPPER", "str", "", "Server-side pepper mixed into API key hashes (HMAC-SHA256)."),
    _S("ENGRAM_OPEN_ACCESS", "bool", False, "Allow unauthenticated read-only access as user 1."),
    _S(
        "ENGRAM_METRICS_PUBLIC",
        "bool",
        False,
        "Serve /metrics and /metrics/prometheus without a key (scrapers). Default: admin key.",
    ),
    _S("ENGRAM_RATE_LIMIT_PER_MINUTE", "int", 3000, "Default per-key weighted request budget per minute. 0: off."),
    _S("ENGRAM_IP_RATE_LIMIT_PER_MINUTE", "int", 3000, "Per-IP request budget per minute before auth. 0: off."),
    _S(
        "ENGRAM_LOCAL_RATE_LIMIT_PER_MINUTE",
        "int",
        60000,
        "Both budgets for local clients (loopback peer, no proxy header): per key and per IP. 0: no limit.",
    ),
    _S("ENGRAM_MEMORY_QUOTA", "int", 0, "Most memories one user may hold. 0: unlimited."),
    # embeddings and reranking
    _S("ENGRAM_EMBEDDING_MODEL", "str", "minilm", "Named embedding model (see models/manifest.json)."),
    _S("ENGRAM_EMBEDDING_MODEL_DIR", "path", None, "Directory with the embedding model's files, used first."),
    _S("ENGRAM_MODELS_DIR", "path", None, "Models cache shared by data dirs. Default: <data dir>/models."),
    _S("ENGRAM_EMBED_MODELS", "list", "", "Extra models served by /v1/embeddings (comma-separated names)."),
    _S("ENGRAM_EMBED_MAX_LOADED", "int", 2, "Most embedding models kept loaded at once (LRU eviction)."),
    _S(
        "ENGRAM_ONNX_THREADS",
        "int",
        0,
        "onnxruntime intra-op threads per call. 0: the cores shared among the embed threads (at least 1).",
    ),
    _S(
        "ENGRAM_EMBED_WORKERS",
        "int",
        0,
        "Embed threads running model calls side by side (queries, stores, reranking). 0: one per core.",
    ),
    _S(
        "ENGRAM_EMBED_BATCH_SIZE",
        "int",
        32,
        "Most texts per onnxruntime call when embedding (a batch is also cut before a text much longer than its"
        " shortest, so short queries are not padded to a long text).",
    ),
    _S("ENGRAM_MAX_SEQ_LENGTH", "int", 256, "Longest token sequence fed to a model (capped by its window)."),
    _S(
        "ENGRAM_EMBEDDING_API_URL",
        "str",
        "",
        "OpenAI-compatible API base for embeddings (e.g. http://127.0.0.1:11434/v1): POST <base>/embeddings"
        " replaces the in-process ONNX model. Empty: the local model.",
    ),
    _S("ENGRAM_EMBEDDING_API_MODEL", "str", "", "Model name sent to ENGRAM_EMBEDDING_API_URL (required with it)."),
    _S("ENGRAM_EMBEDDING_API_KEY", "str", "", "Bearer token for ENGRAM_EMBEDDING_API_URL (empty: none sent)."),
    _S(
        "ENGRAM_EMBEDDING_API_DIMENSIONS",
        "int",
        0,
        "Vector size asked of the embedding endpoint (sent as `dimensions`, checked). 0: the model's own.",
    ),
    _S("ENGRAM_EMBEDDING_API_TIMEOUT_SECONDS", "float", 30.0, "Timeout of one embedding endpoint request."),
    _S(
        "ENGRAM_EMBEDDING_API_MAX_RETRIES",
        "int",
        2,
        "Retries of a failed embedding request (timeouts, connection errors, 429, 5xx), with backoff.",
    ),
    _S(
        "ENGRAM_EMBEDDING_API_COOLDOWN_SECONDS",
        "float",
        15.0,
        "After a failed embedding request the endpoint is left alone this long (stores keep their memories"
        " and embed them later, search runs without the vector channel); then one request tries it again.",
    ),
    _S("ENGRAM_RERANKER_ENABLED", "bool", False, "Rerank the top search results with a cross-encoder."),
    _S("ENGRAM_RERANKER_MODEL", "str", "granite-reranker", "Named reranker model."),
    _S("ENGRAM_RERANKER_TOP_K", "int", 12, "How many fused results the reranker rescores."),
    # search and graph
    _S(
        "ENGRAM_USE_LANCE_INDEX",
        "bool",
        False,
        "Move users with at least ENGRAM_LANCE_THRESHOLD vectors to a LanceDB ANN index under <data_dir>/lance"
        " (needs the `lance` extra; refused with encryption on: LanceDB files are not encrypted).",
    ),
    _S(
        "ENGRAM_LANCE_THRESHOLD",
        "int",
        50000,
        "Vectors per user at or above which LanceDB serves the vector channel (checked every 30 s).",
    ),
    _S("ENGRAM_SEARCH_CACHE_SIZE", "int", 256, "Entries in the per-user search result cache. 0: off."),
    _S("ENGRAM_AUTOLINK_THRESHOLD", "float", 0.55, "Cosine similarity at or above which memories link."),
    _S("ENGRAM_AUTOLINK_MAX", "int", 6, "Most similarity links made for one memory."),
    _S(
        "ENGRAM_UNDERSTAND_ON_STORE",
        "bool",
        True,
        "After each store/update, a durable job decomposes the memory into facts, extracts structured facts,"
        " flags contradictions and scores valence/arousal.",
    ),
    _S("ENGRAM_DECOMPOSE_MAX_FACTS", "int", 10, "Most fact memories one memory is decomposed into (0: none)."),
    _S("ENGRAM_DEDUP_DISTANCE", "int", 3, "SimHash Hamming distance at or below which a store is a duplicate."),
    _S("ENGRAM_PAGERANK_INTERVAL_SECONDS", "float", 300.0, "Interval of the PageRank refresh."),
    _S("ENGRAM_PAGERANK_LINK_THRESHOLD", "int", 100, "Changed links that trigger an early PageRank refresh."),
    _S("ENGRAM_COMMUNITY_INTERVAL_SECONDS", "float", 3600.0, "Interval of Louvain community detection."),
    # optional LLM (any OpenAI-compatible /v1/chat/completions endpoint)
    _S("ENGRAM_LLM_URL", "str", "", "OpenAI-compatible API base (e.g. http://127.0.0.1:11434/v1). Empty: rules only."),
    _S("ENGRAM_LLM_MODEL", "str", "", "Model name sent to the LLM endpoint."),
    _S("ENGRAM_LLM_API_KEY", "str", "", "Bearer token for the LLM endpoint (empty: none sent)."),
    _S("ENGRAM_LLM_TIMEOUT_SECONDS", "float", 20.0, "Timeout of one LLM request (seconds)."),
    _S("ENGRAM_LLM_MAX_RETRIES", "int", 2, "Retries of a failed LLM request (timeouts, 429, 5xx), with backoff."),
    _S("ENGRAM_LLM_TOKENS_PER_MINUTE", "int", 60000, "LLM token budget per minute; over it, the rules answer."),
    # coordination services
    _S("ENGRAM_AXON_MAX_PAYLOAD_BYTES", "int", 64 * 1024, "Largest axon event payload (JSON bytes)."),
    _S("ENGRAM_AXON_STREAM_BUFFER", "int", 256, "Events buffered per SSE client; a client further behind is dropped."),
    _S("ENGRAM_AXON_HEARTBEAT_SECONDS", "float", 15.0, "Interval of the SSE heartbeat comment on /axon/stream."),
    _S(
        "ENGRAM_AXON_SEND_TIMEOUT_SECONDS",
        "float",
        10.0,
        "An SSE client that takes longer to accept a write is dropped.",
    ),
    _S(
        "ENGRAM_WEBHOOK_ALLOW_PRIVATE",
        "bool",
        False,
        "Allow webhook targets on private, loopback and link-local hosts.",
    ),
    _S("ENGRAM_WEBHOOK_MAX_ATTEMPTS", "int", 8, "Delivery attempts before a webhook delivery is dead-lettered."),
    _S("ENGRAM_WEBHOOK_RETRY_BASE_SECONDS", "float", 5.0, "First retry delay of a failed delivery (doubles each try)."),
    _S("ENGRAM_WEBHOOK_TIMEOUT_SECONDS", "float", 10.0, "Timeout of one webhook delivery request."),
    _S("ENGRAM_WEBHOOK_CONCURRENCY", "int", 8, "Webhook deliveries sent at once."),
    _S("ENGRAM_SOMA_OFFLINE_SECONDS", "float", 300.0, "An agent with no heartbeat for this long is marked offline."),
    _S(
        "ENGRAM_SERVICES_TICK_SECONDS",
        "float",
        5.0,
        "Interval of the services' upkeep (offline agents, step timeouts).",
    ),
    _S("ENGRAM_DIGEST_INTERVAL_SECONDS", "float", 0.0, "Interval of scheduled daily digests per active user. 0: off."),
    # chat proxy, retrieval logs, working memory
    _S("ENGRAM_PROXY_PROVIDER", "str", "openai", "Default provider of POST /v1/chat/completions: openai or anthropic."),
    _S(
        "ENGRAM_PROXY_OPENAI_URL", "str", "", "OpenAI-compatible API base the proxy forwards to. Empty: ENGRAM_LLM_URL."
    ),
    _S("ENGRAM_PROXY_OPENAI_API_KEY", "str", "", "Key for the OpenAI-compatible provider. Empty: ENGRAM_LLM_API_KEY."),
    _S(
        "ENGRAM_PROXY_ANTHROPIC_URL",
        "str",
        "https://api.anthropic.com",
        "Anthropic API base (the proxy posts to <base>/v1/messages).",
    ),
    _S("ENGRAM_PROXY_ANTHROPIC_API_KEY", "str", "", "Key for Anthropic (a request's X-Engram-Provider-Key wins)."),
    _S("ENGRAM_PROXY_TIMEOUT_SECONDS", "float", 120.0, "Timeout of one provider call (connect, and each read)."),
    _S("ENGRAM_PROXY_MEMORY_TOKENS", "int", 800, "Token budget of the memories injected into the system prompt."),
    _S("ENGRAM_RETRIEVAL_LOG_RETENTION_DAYS", "float", 30.0, "Retrieval logs older than this are purged. 0: keep."),
    _S(
        "ENGRAM_SESSION_WINDOW",
        "int",
        20,
        "Messages a session keeps short-term (whole turns); older ones become memories.",
    ),
    _S("ENGRAM_SCRATCH_SWEEP_SECONDS", "float", 60.0, "Interval of the purge of expired scratchpad entries."),
    # encryption
    _S("ENGRAM_ENCRYPTION_MODE", "str", "none", "Encryption at rest: none, keyfile, env or yubikey."),
    _S("ENGRAM_KEYFILE", "path", "~/.config/engram/dbkey", "Keyfile (32 raw bytes, mode 0600) for keyfile mode."),
    _S("ENGRAM_DB_KEY", "str", "", "Database key as 64 hex characters, for env mode."),
)

_BY_NAME = {s.name: s for s in DECLARATIONS}
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _parse(setting: Setting, raw: str) -> Any:
    try:
        if setting.kind == "int":
            return int(raw)
        if setting.kind == "float":
            return float(raw)
        if setting.kind == "bool":
            low = raw.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(raw)
        if setting.kind == "path":
            return Path(raw).expanduser() if raw else None
        if setting.kind == "list":
            return tuple(p.strip() for p in raw.split(",") if p.strip())
        return raw
    except ValueError:
        raise Invalid(setting.name, f"cannot read {raw!r} as {setting.kind}") from None


class Settings:
    """Resolved settings: one attribute per declaration (``ENGRAM_DATA_DIR`` -> ``data_dir``)."""

    host: str
    port: int
    data_dir: Path
    db_path: Path
    log_level: str
    max_body_bytes: int
    max_store_body_bytes: int
    max_json_depth: int
    max_upload_bytes: int
    ingest_batch: int
    allowed_origins: tuple[str, ...]
    read_pool_size: int
    busy_timeout_ms: int
    ttl_sweep_seconds: float
    trash_retention_days: float
    jobs_start_delay: float
    review_flush_seconds: float
    bootstrap_secret: str
    api_key_pepper: str
    open_access: bool
    metrics_public: bool
    rate_limit_per_minute: int
    ip_rate_limit_per_minute: int
    local_rate_limit_per_minute: int
    memory_quota: int
    embedding_model: str
    embedding_model_dir: Path | None
    models_dir: Path
    embed_models: tuple[str, ...]
    embed_max_loaded: int
    onnx_threads: int
    embed_workers: int
    embed_batch_size: int
    max_seq_length: int
    embedding_api_url: str
    embedding_api_model: str
    embedding_api_key: str
    embedding_api_dimensions: int
    embedding_api_timeout_seconds: float
    embedding_api_max_retries: int
    embedding_api_cooldown_seconds: float
    reranker_enabled: bool
    reranker_model: str
    reranker_top_k: int
    use_lance_index: bool
    lance_threshold: int
    search_cache_size: int
    autolink_threshold: float
    autolink_max: int
    understand_on_store: bool
    decompose_max_facts: int
    dedup_distance: int
    pagerank_interval_seconds: float
    pagerank_link_threshold: int
    community_interval_seconds: float
    llm_url: str
    llm_model: str
    llm_api_key: str
    llm_timeout_seconds: float
    llm_max_retries: int
    llm_tokens_per_minute: int
    axon_max_payload_bytes: int
    axon_stream_buffer: int
    axon_heartbeat_seconds: float
    axon_send_timeout_seconds: float
    webhook_allow_private: bool
    webhook_max_attempts: int
    webhook_retry_base_seconds: float
    webhook_timeout_seconds: float
    webhook_concurrency: int
    soma_offline_seconds: float
    services_tick_seconds: float
    digest_interval_seconds: float
    encryption_mode: str
    keyfile: Path
    db_key: str
    proxy_provider: str
    proxy_openai_url: str
    proxy_openai_api_key: str
    proxy_anthropic_url: str
    proxy_anthropic_api_key: str
    proxy_timeout_seconds: float
    proxy_memory_tokens: int
    retrieval_log_retention_days: float
    session_window: int
    scratch_sweep_seconds: float

    def __init__(self, values: Mapping[str, Any]) -> None:
        for setting in DECLARATIONS:
            value = values.get(setting.attr, setting.default)
            if setting.kind == "path" and isinstance(value, str):
                value = Path(value).expanduser()
            if setting.kind == "list" and isinstance(value, str):
                value = _parse(setting, value)
            setattr(self, setting.attr, value)
        if self.db_path is None:
            self.db_path = self.data_dir / "engram.db"
        if self.models_dir is None:
            self.models_dir = self.data_dir / "models"
        if self.encryption_mode not in {"none", "keyfile", "env", "yubikey"}:
            raise Invalid("ENGRAM_ENCRYPTION_MODE", "must be one of none, keyfile, env, yubikey")
        if self.use_lance_index and self.encryption_mode != "none":
            raise Invalid(
                "ENGRAM_USE_LANCE_INDEX",
                "cannot be on with encryption: LanceDB would write the vectors to disk unencrypted",
            )
        if self.lance_threshold < 1:
            raise Invalid("ENGRAM_LANCE_THRESHOLD", "must be at least 1")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Read every declared setting from ``env`` (default ``os.environ``); keyword overrides win."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        for setting in DECLARATIONS:
            if setting.name in source:
                values[setting.attr] = _parse(setting, source[setting.name])
        values.update(overrides)
        return cls(values)

    @classmethod
    def for_data_dir(cls, data_dir: Path | str, **overrides: Any) -> Settings:
        """Defaults with everything under ``data_dir``, ignoring the environment (for tests and tools)."""
        return cls.from_env({}, data_dir=Path(data_dir), **overrides)

    def replace(self, **overrides: Any) -> Settings:
        values = {s.attr: getattr(self, s.attr) for s in DECLARATIONS}
        values.update(overrides)
        return Settings(values)

    def __repr__(self) -> str:
        secret = {
            "bootstrap_secret",
            "api_key_pepper",
            "db_key",
            "llm_api_key",
            "embedding_api_key",
            "proxy_openai_api_key",
            "proxy_anthropic_api_key",
        }
        shown = ", ".join(
            f"{s.attr}={'***' if s.attr in secret and getattr(self, s.attr) else getattr(self, s.attr)!r}"
            for s in DECLARATIONS
        )
        return f"Settings({shown})"


def lookup(name: str) -> Setting:
    """The declaration of ``name`` (``KeyError`` if undeclared)."""
    return _BY_NAME[name]


def markdown_table() -> str:
    """The settings reference as a Markdown table (docs/settings.md is generated from it)."""
    lines = ["| Setting | Type | Default | What it does |", "|---|---|---|---|"]
    for s in DECLARATIONS:
        default = "" if s.default in (None, "") else f"`{s.default}`"
        lines.append(f"| `{s.name}` | {s.kind} | {default} | {s.help} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write("# Settings\n\nEvery setting is read from the environment at startup.\n\n" + markdown_table())

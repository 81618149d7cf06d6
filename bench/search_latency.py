"""Search latency through the HTTP API (uvicorn on loopback), one user with N memories, with the split.

Setup: a data dir is filled through the library (memories inserted in bulk with their minilm vectors,
personality signals extracted; no HTTP), then ``engram serve`` runs on a free loopback port with the
result cache off, and distinct queries are sent one at a time with httpx: ``/search`` for p50/p95 of the
whole request, ``/search/explain`` for the server-side split (embed, channels, graph, fuse, rerank).
Texts: 8-24 words drawn Zipf-like from a 3,000-word synthetic vocabulary plus common English words.

With ``--lance`` the server runs with ``ENGRAM_USE_LANCE_INDEX=true`` and a threshold of N/2; the
measurement starts once ``/search/explain`` reports the user's index as ``lancedb`` (the maintenance pass
has built the table and its ANN index; the wait is reported as ``lance_ready_s``). ``--keep DIR`` keeps
the filled data dir (and its admin key) in ``DIR/data-N`` and reuses it on the next run.

Ratios: before each ``/search`` the bench embeds the same query text once with a bare onnxruntime session
of the same model (tokenise + ``run``, 2 intra-op threads, all graph optimisations, no busy-wait so its
threads do not take the cores from the server's next request), so both see the same moment's load; it
prints p50/p95 of each and their ratios (``ratio_p50`` = HTTP p50 / bare p50; ``ratio_p95`` = HTTP p95 /
bare p50). With ``--distinct M`` only ``M`` texts are embedded with the model at fill time; every other
memory gets its own text and the vector of text ``i mod M`` plus small Gaussian noise (sigma 0.02 per
dimension, re-normalised): a 100k corpus fills in minutes instead of ~30; every search still embeds its
query with the real model and runs the real pipeline.

Usage::

    PYTHONPATH=. python bench/search_latency.py --model-dir DIR [--n 10000] [--queries 300] [--lance] [--keep DIR]
        [--distinct M]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import onnxruntime as ort

from engram_core.embeddings.onnx_model import load_tokenizer, pad_batch
from engram_core.engram import Engram
from engram_core.memories.written import WrittenMemory
from engram_core.personality.store import extract_in_tx
from engram_core.settings import Settings
from engram_core.timeutil import now_iso

COMMON = (  # noqa: SIM905 - a word list reads best as text
    "i we love like prefer decided meeting project budget deploy release coffee travel flight hotel museum "
    "garden piano football marathon recipe pasta team review design bug fix test latency model search"
).split()


def _vocabulary(rng: random.Random) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [w for w in ("".join(rng.choice(letters) for _ in range(rng.randint(4, 9))) for _ in range(3000))]


def _text(rng: random.Random, vocab: list[str]) -> str:
    words = [COMMON[int(rng.paretovariate(1.2)) % len(COMMON)] if rng.random() < 0.3
             else vocab[int(rng.paretovariate(0.8)) % len(vocab)] for _ in range(rng.randint(8, 24))]  # fmt: skip
    return " ".join(words).capitalize() + "."


def populate(data_dir: Path, model_dir: Path, n: int, rng: random.Random, distinct: int = 0) -> tuple[str, list[str]]:
    """Fill ``data_dir`` with ``n`` embedded memories for user 1; returns an admin key and the vocabulary.

    ``distinct`` > 0: only the first ``distinct`` texts are embedded; the rest reuse those vectors, perturbed.
    """
    settings = Settings.for_data_dir(data_dir, embedding_model_dir=model_dir)
    engram = Engram.open(settings)
    try:
        from engram_core.auth.users import create_user

        key = engram.db.write(lambda c: create_user(c, None, "bench", is_admin=True))["api_key"]
        vocab = _vocabulary(rng)
        embedder = engram.embedder
        if embedder is None:
            sys.exit(f"no embedding model: {engram.vectors.reason}")
        model = str(embedder.fingerprint)
        noise = np.random.default_rng(11)
        seen: list[Any] = []
        for start in range(0, n, 256):
            texts = [_text(rng, vocab) for _ in range(min(256, n - start))]
            if distinct <= 0 or start < distinct:
                vectors = embedder.embed(texts)
                seen.extend(vectors)
            else:
                base = np.stack([seen[(start + i) % len(seen)] for i in range(len(texts))])
                base = base + noise.normal(0.0, 0.02, base.shape).astype(np.float32)
                vectors = base / np.linalg.norm(base, axis=1, keepdims=True)
            now = now_iso()

            def tx(conn: Any, texts: list[str] = texts, vectors: Any = vectors, now: str = now) -> None:
                for text, vec in zip(texts, vectors, strict=True):
                    cur = conn.execute(
                        "INSERT INTO memories (user_id, content, created_at, updated_at, embedding, embedding_model)"
                        " VALUES (1, ?, ?, ?, ?, ?)",
                        (text, now, now, vec.astype("<f4").tobytes(), model),
                    )
                    conn.execute("UPDATE memories SET root_id = id WHERE id = ?", (cur.lastrowid,))
                    extract_in_tx(conn, WrittenMemory(int(cur.lastrowid), 1, text, "general", True))

            engram.db.write(tx)
        return str(key), vocab
    finally:
        engram.close()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _quantiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100)
    return round(cuts[49], 2), round(cuts[94], 2)


def _bare(model_dir: Path) -> Any:
    """Embed one text with a plain onnxruntime session of the model in ``model_dir`` (the ratio's unit)."""
    info = json.loads((model_dir / "engram-model.json").read_text())
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(str(model_dir / info["onnx"]), sess_options=opts, providers=["CPUExecutionProvider"])
    tok, pad = load_tokenizer(model_dir / info["tokenizer"], int(info["max_tokens"]))
    names = {i.name for i in session.get_inputs()}

    def embed(text: str) -> Any:
        ids, mask, types = pad_batch([tok.encode(text)], pad, "token_type_ids" in names)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if types is not None:
            feeds["token_type_ids"] = types
        return session.run(None, feeds)[0]

    return embed


def _filled(
    base: Path, n: int, model_dir: Path, rng: random.Random, distinct: int = 0
) -> tuple[Path, str, list[str], float]:
    """A data dir with ``n`` memories under ``base`` (reused when ``base/data-N`` was filled before)."""
    data_dir = base / f"data-{n}"
    saved = base / f"data-{n}.json"
    if saved.exists():
        facts = json.loads(saved.read_text())
        _vocabulary(rng)  # keep the query draw identical to a fresh run
        for _ in range(n):
            _text(rng, facts["vocab"])
        return data_dir, facts["key"], facts["vocab"], 0.0
    t0 = time.perf_counter()
    key, vocab = populate(data_dir, model_dir, n, rng, distinct)
    fill_s = time.perf_counter() - t0
    saved.write_text(json.dumps({"key": key, "vocab": vocab, "distinct": min(distinct, n) if distinct > 0 else n}))
    return data_dir, key, vocab, fill_s


def _wait_for_lance(client: httpx.Client, timeout_s: float = 1800.0) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        r = client.post("/search/explain", json={"query": "warm", "limit": 1})
        if r.status_code == 200 and r.json()["vector_search"].get("index") == "lancedb":
            return round(time.perf_counter() - t0, 1)
        time.sleep(2.0)
    sys.exit("the LanceDB index was not ready in time")


def run(
    n: int, queries: int, model_dir: Path, lance: bool = False, keep: Path | None = None, distinct: int = 0
) -> dict[str, Any]:
    rng = random.Random(11)
    bare = _bare(model_dir)
    with tempfile.TemporaryDirectory() as tmp:
        base = keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        data_dir, key, vocab, fill_s = _filled(base, n, model_dir, rng, distinct)
        distinct = json.loads((base / f"data-{n}.json").read_text()).get("distinct")  # None: not recorded
        port = _port()
        env = {**os.environ, "ENGRAM_DATA_DIR": str(data_dir), "ENGRAM_PORT": str(port),
               "ENGRAM_EMBEDDING_MODEL_DIR": str(model_dir), "ENGRAM_SEARCH_CACHE_SIZE": "0",
               "ENGRAM_LOG_LEVEL": "warning", "ENGRAM_RATE_LIMIT_PER_MINUTE": "1000000",
               "ENGRAM_IP_RATE_LIMIT_PER_MINUTE": "1000000",
               "ENGRAM_USE_LANCE_INDEX": "true" if lance else "false",
               "ENGRAM_LANCE_THRESHOLD": str(max(1, n // 2))}  # fmt: skip
        lance_ready_s = None
        proc = subprocess.Popen([sys.executable, "-m", "engram_core.cli", "serve"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
                for _ in range(200):
                    try:
                        if client.get("/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                if lance:
                    lance_ready_s = _wait_for_lance(client)
                pool = vocab[:400] + COMMON
                qs = [" ".join(rng.choice(pool) for _ in range(rng.randint(2, 6))) for _ in range(queries)]
                for q in qs[:20]:  # warm-up: index load, sessions
                    client.post("/search", json={"query": q})
                    bare(q)
                wall: list[float] = []
                unit: list[float] = []
                load = [os.getloadavg()[0]]
                for q in qs:
                    text = q + " " + rng.choice(vocab)
                    t = time.perf_counter()
                    bare(text)
                    unit.append((time.perf_counter() - t) * 1000)
                    t = time.perf_counter()
                    r = client.post("/search", json={"query": text, "limit": 10})
                    wall.append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200, r.text
                load.append(os.getloadavg()[0])
                split: dict[str, list[float]] = {}
                for q in qs[: max(50, queries // 3)]:
                    r = client.post("/search/explain", json={"query": q, "limit": 10})
                    assert r.status_code == 200, r.text
                    timings = r.json()["timings"]
                    for name, value in timings.items():
                        split.setdefault(name, []).append(value)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    p50, p95 = _quantiles(wall)
    bare_p50, bare_p95 = _quantiles(unit)
    return {"n": n, "queries": queries, "index": "lancedb" if lance else "memory", "lance_ready_s": lance_ready_s,
            "fill_s": round(fill_s, 1), "distinct_vectors": distinct, "load_average": load,
            "ratio_p50": round(p50 / bare_p50, 2), "ratio_p95": round(p95 / bare_p50, 2),
            "bare_embed_p50_ms": bare_p50, "bare_embed_p95_ms": bare_p95, "http_p50_ms": p50, "http_p95_ms": p95,
            "split_p50_ms": {k: _quantiles(v)[0] for k, v in split.items()},
            "split_p95_ms": {k: _quantiles(v)[1] for k, v in split.items()}}  # fmt: skip


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", required=True, type=Path)
    parser.add_argument("--n", type=int, nargs="+", default=[10_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--lance", action="store_true", help="serve the user from LanceDB (ANN)")
    parser.add_argument("--keep", type=Path, help="keep and reuse filled data dirs here")
    parser.add_argument("--distinct", type=int, default=0, help="embed only this many texts at fill time")
    args = parser.parse_args(argv)
    for n in args.n:
        result = run(n, args.queries, args.model_dir, args.lance, args.keep, args.distinct)
        print(json.dumps(result, indent=2), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

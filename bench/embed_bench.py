"""Embedding benchmark: Engram's embedder against a bare onnxruntime session on the same inputs.

    python bench/embed_bench.py [--models-dir DIR] [--rounds N] [--model minilm-int8]

Prints query latency (median, p95) for one short sentence with 1 and 2 intra-op threads, throughput for
batches of 32 and 128, the raw session time on the same pre-tokenised inputs (tokenisation outside the
timing), the Engram/raw ratio and the peak RSS. Pulls MiniLM into the models cache if it is missing.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402

from engram_core.embeddings.onnx_model import OnnxEmbedder, load_tokenizer, pad_batch  # noqa: E402
from engram_core.embeddings.registry import ensure  # noqa: E402
from engram_core.settings import Settings  # noqa: E402

QUERY = "What did the user say about their upcoming trip to Lisbon?"
SENTENCES = [
    "The meeting moved to Thursday afternoon because the client was travelling.",
    "Remember that Alice prefers tea over coffee in the mornings.",
    "The deploy failed twice on Friday; the fix was a missing environment variable.",
    "Quarterly tax filing deadlines are approaching for small businesses.",
    "He is allergic to peanuts and carries an epinephrine pen.",
    "Our SQLite database is about 2 GB and grows by 50 MB a week.",
    "The kids' school play is on the 14th at 6 pm in the main hall.",
    "Use the staging cluster for load tests, never production.",
]


def _paired(
    a: Callable[[], object], b: Callable[[], object], rounds: int, warmup: int = 5
) -> tuple[list[float], list[float]]:
    """Per-call wall times (ms) of ``a`` and ``b``, interleaved so background load hits both alike."""
    for _ in range(warmup):
        a(), b()
    ta: list[float] = []
    tb: list[float] = []
    for i in range(rounds):
        for fn, out in ((a, ta), (b, tb)) if i % 2 == 0 else ((b, tb), (a, ta)):
            start = time.perf_counter()
            fn()
            out.append((time.perf_counter() - start) * 1000.0)
    return ta, tb


def _p95(values: list[float]) -> float:
    return float(np.percentile(values, 95))


def _raw_session(path: Path, threads: int) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", type=Path, default=None)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--model", default="minilm", help="a manifest name, e.g. minilm-int8")
    args = parser.parse_args()
    settings = Settings.from_env()
    if args.models_dir is not None:
        settings = settings.replace(models_dir=args.models_dir)
    found = ensure(args.model, settings, progress=lambda m: print("  " + m))
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"onnxruntime {ort.__version__}")  # fmt: skip
    print(f"model: {found.info.fingerprint} from {found.directory}; load average {os.getloadavg()[0]:.2f}")
    tok, pad = load_tokenizer(found.directory / found.info.tokenizer, 256)
    for threads in (1, 2):
        emb = OnnxEmbedder(found.directory, found.info, threads=threads, batch_size=32, max_seq_length=256)
        raw = _raw_session(found.directory / found.info.onnx, threads)
        ids, mask, types = pad_batch([tok.encode(QUERY)], pad, True)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        assert np.abs(raw.run(None, feeds)[0][0] - emb.embed([QUERY])[0]).max() < 1e-5
        mine, bare = _paired(lambda e=emb: e.embed([QUERY]), lambda r=raw, f=feeds: r.run(None, f), args.rounds)
        med, raw_med = statistics.median(mine), statistics.median(bare)
        print(
            f"query ({len(ids[0])} tokens), {threads} thread(s): engram median {med:.2f} ms "
            f"p95 {_p95(mine):.2f} ms | raw median {raw_med:.2f} ms p95 {_p95(bare):.2f} ms "
            f"| ratio {med / raw_med:.3f}"
        )
        for size in (32, 128):
            texts = [SENTENCES[i % len(SENTENCES)] + f" (note {i})" for i in range(size)]
            encs = sorted(tok.encode_batch(texts), key=lambda e: len(e.ids))
            batches = []
            for start in range(0, size, 32):
                b_ids, b_mask, b_types = pad_batch(encs[start : start + 32], pad, True)
                batches.append({"input_ids": b_ids, "attention_mask": b_mask, "token_type_ids": b_types})
            reps = max(5, args.rounds // (size // 8))
            mine, bare = _paired(
                lambda e=emb, t=texts: e.embed(t),
                lambda r=raw, bs=batches: [r.run(None, f) for f in bs],
                reps,
                2,
            )
            m, b = statistics.median(mine), statistics.median(bare)
            print(
                f"batch of {size}, {threads} thread(s): engram {size / m * 1000:.0f} texts/s ({m:.1f} ms) "
                f"| raw {size / b * 1000:.0f} texts/s ({b:.1f} ms) | ratio {m / b:.3f}"
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {rss:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

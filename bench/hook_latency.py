"""Claude Code hook latency end to end: the hook process started as Claude Code starts it, until it exits.

A data dir with N memories (filled through the library like ``bench/search_latency.py``, MiniLM vectors),
``engram serve`` on loopback with the embedding model, then SessionStart and UserPromptSubmit events (distinct
prompts) piped to ``engram hook <Event>`` (the installed ``engram`` console script beside this interpreter, as
Claude Code runs it from PATH; ``python -m engram_core.cli`` when there is none) and to the standalone
``hooks/engram_hook.py``, one at a time. Each figure includes interpreter start, the HTTP calls and the output.

Usage::

    PYTHONPATH=. python bench/hook_latency.py --model-dir DIR [--n 10000] [--runs 60] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx

from bench.search_latency import COMMON, _filled, _port, _quantiles

ROOT = Path(__file__).resolve().parents[1]
_SCRIPT = Path(sys.executable).parent / "engram"
COMMANDS = {
    "engram hook": [str(_SCRIPT), "hook"] if _SCRIPT.exists() else [sys.executable, "-m", "engram_core.cli", "hook"],
    "engram_hook.py": [sys.executable, str(ROOT / "hooks" / "engram_hook.py")],
}


def _time_hook(cmd: list[str], event: dict[str, Any], env: dict[str, str]) -> tuple[float, int]:
    t = time.perf_counter()
    done = subprocess.run([*cmd, event["hook_event_name"]], input=json.dumps(event), env=env, capture_output=True,
                          text=True, timeout=30)  # fmt: skip
    return (time.perf_counter() - t) * 1000, len(done.stdout)


def _session_start_calls(url: str, key: str, runs: int) -> dict[str, Any]:
    """Each HTTP call the SessionStart hook (source startup) made before it became one call, timed alone as the
    hook makes it (a new urllib connection per call), and the one call that replaced them."""
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    context = {"query": "engram: project conventions, decisions, preferences", "max_tokens": 1500, "mode": "fast"}
    start = {"project": "engram", "tag": "engram", "max_tokens": 1500}
    calls: dict[str, tuple[str, str, dict[str, Any] | None]] = {  # a body with session_id gets a new one each run
        "POST /context": ("POST", "/context", context),
        "GET /list decisions": ("GET", "/list?category=decision&tags=engram&limit=5", None),
        "GET /episodes": ("GET", "/episodes?session_id=bench-calls&status=open&limit=1", None),
        "POST /episodes": ("POST", "/episodes", {"title": "Claude Code session in engram", "session_id": ""}),
        "POST /hooks/session-start (all of the above)": ("POST", "/hooks/session-start", {**start, "session_id": ""}),
    }
    out: dict[str, Any] = {}
    for label, (method, path, body) in calls.items():
        times = []
        for i in range(runs + 5):
            if body is not None and "session_id" in body:  # a new session each time: its episode is started
                body = {**body, "session_id": f"{path}-{i}"}
            data = None if body is None else json.dumps(body).encode()
            request = urllib.request.Request(url + path, data=data, headers=headers, method=method)
            t = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as resp:
                resp.read()
            if i >= 5:
                times.append((time.perf_counter() - t) * 1000)
        p50, p95 = _quantiles(times)
        out[label] = {"p50_ms": p50, "p95_ms": p95}
    return out


def run(n: int, runs: int, model_dir: Path, keep: Path | None) -> dict[str, Any]:
    rng = random.Random(13)
    with tempfile.TemporaryDirectory() as tmp:
        base = keep or Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        data_dir, key, vocab, fill_s = _filled(base, n, model_dir, rng)
        port = _port()
        env = {**os.environ, "ENGRAM_DATA_DIR": str(data_dir), "ENGRAM_PORT": str(port),
               "ENGRAM_EMBEDDING_MODEL_DIR": str(model_dir), "ENGRAM_LOG_LEVEL": "warning",
               "ENGRAM_RATE_LIMIT_PER_MINUTE": "1000000", "ENGRAM_IP_RATE_LIMIT_PER_MINUTE": "1000000"}  # fmt: skip
        proc = subprocess.Popen([sys.executable, "-m", "engram_core.cli", "serve"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        results: dict[str, Any] = {"n": n, "runs": runs, "fill_s": round(fill_s, 1),
                                   "engram hook command": " ".join(COMMANDS["engram hook"]),
                                   "loadavg_start": [round(x, 2) for x in os.getloadavg()]}  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            for _ in range(300):
                try:
                    if httpx.get(url + "/health/ready").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            hook_env = {**os.environ, "ENGRAM_URL": url, "ENGRAM_API_KEY": key, "ENGRAM_HOOK_STATE": tmp + "/state"}
            pool = vocab[:400] + COMMON
            common = {"transcript_path": tmp + "/t.jsonl", "cwd": str(ROOT), "permission_mode": "default"}
            for label, cmd in COMMANDS.items():
                for event_name in ("SessionStart", "UserPromptSubmit"):
                    times, sizes = [], []
                    for i in range(runs + 5):
                        prompt = " ".join(rng.choice(pool) for _ in range(rng.randint(5, 14))) + "?"
                        event = {**common, "session_id": f"bench-{label}-{i}", "hook_event_name": event_name,
                                 "source": "startup", "prompt": prompt}  # fmt: skip
                        ms, size = _time_hook(cmd, event, hook_env)
                        if i >= 5:  # warm-up: page cache, model sessions
                            times.append(ms)
                            sizes.append(size)
                    p50, p95 = _quantiles(times)
                    filled = sum(1 for s in sizes if s) / len(sizes)
                    results[f"{label} {event_name}"] = {"p50_ms": p50, "p95_ms": p95, "max_ms": round(max(times), 1),
                                                         "with_context": filled}  # fmt: skip
            results["SessionStart calls"] = _session_start_calls(url, key, runs)
            bare = [_time_hook([sys.executable, "-c", "pass"], {"hook_event_name": ""}, hook_env)[0] for _ in range(20)]
            results["python -c pass"] = {"p50_ms": _quantiles(bare)[0]}
            results["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    return results


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", required=True, type=Path)
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--keep", type=Path, help="keep and reuse the filled data dir here")
    args = parser.parse_args(argv)
    print(json.dumps(run(args.n, args.runs, args.model_dir, args.keep), indent=2), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

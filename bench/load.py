"""Throughput under concurrent agents: a bounded load generator against a real ``engram serve``.

Setup: a temporary data dir is filled through the library with ``--memories`` memories (MiniLM vectors)
spread over ``--users`` users, each with its own key; then ``engram serve`` (uvicorn) runs on a free
loopback port with the result cache off and the rate limits out of the way. For each step of the
``--clients`` sweep, that many asyncio clients (each its own httpx client and kept-alive connection, as
that many agent processes would; ``--shared-pool``: one pool for all, which costs the client 2-3x the CPU
per request at 64 clients) send requests
back to back for ``--seconds``: 70% ``POST /search``, 25% ``POST /memories`` (store), 5% ``GET /list``,
each client acting as user ``client % users``. The same server serves every step (stores accumulate).

Per step it prints throughput, p50/p95/p99 per operation and overall, errors by status, the server's
RSS, and the server's CPU time per request from ``/proc/<pid>/stat`` (user + system), so the server's
cost per request is known apart from the client's (also printed: this process's CPU per request).

Usage::

    PYTHONPATH=. python bench/load.py [--model-dir DIR] [--clients 1,4,16,64] [--seconds 15] [--json]

``--model-dir`` defaults to ``$ENGRAM_TEST_MODELS_DIR/minilm`` (else ``data/models/minilm``).
``--profile FILE`` attaches ``py-spy record`` (if installed) to the server for the sweep (speedscope output).
With py-spy installed, each step also prints the server's CPU per request by thread group (the event
loop, the read pool, the embed threads, the writer), from ``/proc/<pid>/task`` and ``py-spy dump``.
``--keep DIR`` copies the data dir (memories stored during the run are auto-linked) to DIR at the end.
``--servers N`` starts N server processes on the same data dir (one after the other) and sends client i
to server i % N (so with 4 users and 2 servers each user stays on one process); CPU and RSS are summed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.search_latency import COMMON, _text, _vocabulary
from engram_core.engram import Engram
from engram_core.memories.written import WrittenMemory
from engram_core.personality.store import extract_in_tx
from engram_core.settings import Settings
from engram_core.timeutil import now_iso

MIX = (("search", 0.70), ("store", 0.25), ("list", 0.05))
TICKS = os.sysconf("SC_CLK_TCK")
HEADER = (
    "| clients | req/s | p50 / p95 / p99 ms | search p50 / p99 ms | server CPU ms/req | client CPU ms/req"
    " | RSS MB | errors |\n|---|---|---|---|---|---|---|---|"
)


def default_model_dir() -> Path:
    root = os.environ.get("ENGRAM_TEST_MODELS_DIR") or str(Path(__file__).resolve().parents[1] / "data" / "models")
    return Path(root) / "minilm"


def populate(data_dir: Path, model_dir: Path, n: int, users: int, rng: random.Random) -> tuple[list[str], list[str]]:
    """``n`` embedded memories over ``users`` users; returns one key per user and the vocabulary."""
    engram = Engram.open(Settings.for_data_dir(data_dir, embedding_model_dir=model_dir))
    try:
        from engram_core.auth.users import create_user

        made = [engram.db.write(lambda c, i=i: create_user(c, None, f"agent{i}")) for i in range(users)]
        embedder = engram.embedder
        if embedder is None:
            sys.exit(f"no embedding model: {engram.vectors.reason}")
        model = str(embedder.fingerprint)
        vocab = _vocabulary(rng)
        texts = [_text(rng, vocab) for _ in range(n)]
        vectors = embedder.embed(texts)
        now = now_iso()

        def tx(conn: Any) -> None:
            for i, (text, vec) in enumerate(zip(texts, vectors, strict=True)):
                uid = int(made[i % users]["id"])
                cur = conn.execute(
                    "INSERT INTO memories (user_id, content, created_at, updated_at, embedding, embedding_model)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (uid, text, now, now, vec.astype("<f4").tobytes(), model),
                )
                conn.execute("UPDATE memories SET root_id = id WHERE id = ?", (cur.lastrowid,))
                extract_in_tx(conn, WrittenMemory(int(cur.lastrowid), uid, text, "general", True))

        engram.db.write(tx)
        return [str(m["api_key"]) for m in made], vocab
    finally:
        engram.close()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of ``pid`` so far."""
    return stat_cpu_s(Path(f"/proc/{pid}/stat"))


def proc_rss_mb(pid: int) -> tuple[float, float]:
    """(current RSS, peak RSS) of ``pid`` in MiB."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def thread_cpu_s(pid: int) -> dict[int, float]:
    """User + system CPU seconds of each thread of ``pid`` (``/proc/<pid>/task/<tid>/stat``)."""
    out: dict[int, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):  # the thread ended meanwhile
            out[int(task.name)] = stat_cpu_s(task / "stat")
    return out


def stat_cpu_s(stat_path: Path) -> float:
    """User + system CPU seconds from a ``/proc/.../stat`` file (fields 14 and 15)."""
    stat = stat_path.read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def total_cpu_s(pids: list[int]) -> float:
    return sum(proc_cpu_s(pid) for pid in pids)


def all_threads_cpu_s(pids: list[int]) -> dict[int, float]:
    return {tid: cpu for pid in pids for tid, cpu in thread_cpu_s(pid).items()}


def thread_groups(pid: int) -> dict[int, str]:
    """tid -> thread group (``engram-read``, ``engram-embed``, ``MainThread`` = the event loop, ...) from
    ``py-spy dump`` (Python thread names are not the OS's); empty when py-spy is not installed."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        return {}
    dump = subprocess.run([spy, "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=60).stdout
    names = {int(m[1]): m[2] for m in re.finditer(r'^Thread (\d+) \([^)]*\): "([^"]*)"', dump, re.M)}
    return {tid: re.sub(r"[-_]\d+$", "", name) for tid, name in names.items()}


def cpu_by_group(before: dict[int, float], after: dict[int, float], groups: dict[int, str]) -> dict[str, float]:
    """CPU seconds per thread group between two ``thread_cpu_s`` snapshots; unnamed threads (native
    onnxruntime threads, threads started after the dump) count as ``other``."""
    spent: dict[str, float] = {}
    for tid, cpu in after.items():
        group = groups.get(tid, "other")
        spent[group] = spent.get(group, 0.0) + cpu - before.get(tid, 0.0)
    return dict(sorted(spent.items(), key=lambda kv: -kv[1]))


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 1)


@dataclass
class Step:
    clients: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: {op: [] for op, _ in MIX})
    errors: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.perf_counter)
    error_at: list[float] = field(default_factory=list)  # seconds into the step when each error's request began

    def record(self, op: str, ms: float, status: str | None) -> None:
        self.latencies[op].append(ms)
        if status is not None:
            self.errors[f"{op}:{status}"] += 1
            self.error_at.append(round(time.perf_counter() - ms / 1000 - self.started, 2))


class Load:
    def __init__(
        self, bases: list[str], keys: list[str], vocab: list[str], seed: int, mix: dict[str, float], shared_pool: bool
    ) -> None:
        self.mix = mix
        self.shared_pool = shared_pool
        self.bases = bases  # client i talks to server i % len(bases)
        self.keys = keys
        self.vocab = vocab
        self.pool = vocab[:400] + COMMON
        self.rng = random.Random(seed)

    def _request(self, op: str) -> tuple[str, str, dict[str, Any] | None]:
        rng = self.rng
        if op == "search":
            words = [rng.choice(self.pool) for _ in range(rng.randint(2, 6))] + [rng.choice(self.vocab)]
            return "POST", "/search", {"query": " ".join(words), "limit": 10}
        if op == "store":
            return "POST", "/memories", {"content": _text(rng, self.vocab)}
        return "GET", "/list?limit=20", None

    async def _client(self, http: httpx.AsyncClient, i: int, step: Step, until: float) -> None:
        headers = {"Authorization": f"Bearer {self.keys[i % len(self.keys)]}"}
        base = self.bases[i % len(self.bases)]
        ops, weights = list(self.mix), list(self.mix.values())
        while time.perf_counter() < until:
            op = self.rng.choices(ops, weights)[0]
            method, path, body = self._request(op)
            t = time.perf_counter()
            status: str | None
            try:
                r = await http.request(method, base + path, json=body, headers=headers)
                status = None if r.status_code < 400 else str(r.status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            step.record(op, (time.perf_counter() - t) * 1000, status)

    async def step(self, clients: int, seconds: float, pids: list[int]) -> tuple[Step, float, float, dict[str, float]]:
        """One step; returns it with the server's and this process's CPU seconds over the timed part, and
        the server's CPU seconds per thread group."""
        step = Step(clients)
        async with contextlib.AsyncExitStack() as stack:
            if self.shared_pool:  # one pool of ``clients`` connections for all (before 2026-12-02 14:50)
                limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
                one = await stack.enter_async_context(httpx.AsyncClient(limits=limits, timeout=60))
                https = [one] * clients
            else:  # each agent its own client and connection, as N agent processes would have
                https = [await stack.enter_async_context(httpx.AsyncClient(timeout=60)) for _ in range(clients)]
            warm = Step(clients)  # open the connections and warm the server before the clock starts
            await asyncio.gather(*(self._client(https[i], i, warm, time.perf_counter() + 1.0) for i in range(clients)))
            groups = {t: g for pid in pids for t, g in thread_groups(pid).items()}  # after the warm-up: all threads
            threads0, cpu0, ccpu0 = all_threads_cpu_s(pids), total_cpu_s(pids), time.process_time()
            step.started = time.perf_counter()
            until = time.perf_counter() + seconds
            await asyncio.gather(*(self._client(https[i], i, step, until) for i in range(clients)))
            cpu_s, ccpu_s = total_cpu_s(pids) - cpu0, time.process_time() - ccpu0
            by_group = cpu_by_group(threads0, all_threads_cpu_s(pids), groups)
        return step, cpu_s, ccpu_s, by_group


def summarise(
    step: Step, seconds: float, cpu_s: float, client_cpu_s: float, rss: tuple[float, float], by_group: dict[str, float]
) -> dict[str, Any]:
    total = sum(len(v) for v in step.latencies.values())
    every = [ms for v in step.latencies.values() for ms in v]
    out: dict[str, Any] = {
        "clients": step.clients,
        "requests": total,
        "rps": round(total / seconds, 1),
        "p50_ms": pct(every, 50),
        "p95_ms": pct(every, 95),
        "p99_ms": pct(every, 99),
        "server_cpu_ms_per_req": round(cpu_s * 1000 / max(1, total), 2),
        "server_cpu_util": round(cpu_s / seconds, 2),
        "client_cpu_ms_per_req": round(client_cpu_s * 1000 / max(1, total), 2),
        "rss_mb": round(rss[0], 1),
        "peak_rss_mb": round(rss[1], 1),
        "errors": dict(step.errors),
        "error_at_s": step.error_at[:20],
        "server_cpu_ms_per_req_by_thread": {g: round(c * 1000 / max(1, total), 2) for g, c in by_group.items()},
    }
    for op, values in step.latencies.items():
        out[op] = {"n": len(values), "p50_ms": pct(values, 50), "p95_ms": pct(values, 95), "p99_ms": pct(values, 99)}
    return out


def _row(s: dict[str, Any]) -> str:
    search = s["search"]
    return (
        f"| {s['clients']} | {s['rps']} | {s['p50_ms']} / {s['p95_ms']} / {s['p99_ms']} "
        f"| {search['p50_ms']} / {search['p99_ms']} | {s['server_cpu_ms_per_req']} | {s['client_cpu_ms_per_req']} "
        f"| {s['rss_mb']} | {sum(s['errors'].values())} {s['errors'] or ''}"
        f"{' at ' + str(s['error_at_s']) + ' s' if s['error_at_s'] else ''} |"
    )


def start_server(data_dir: Path, model_dir: Path, port: int, extra: dict[str, str]) -> Any:
    env = {**os.environ, "ENGRAM_DATA_DIR": str(data_dir), "ENGRAM_PORT": str(port),
           "ENGRAM_EMBEDDING_MODEL_DIR": str(model_dir), "ENGRAM_SEARCH_CACHE_SIZE": "0",
           "ENGRAM_LOG_LEVEL": "warning", "ENGRAM_RATE_LIMIT_PER_MINUTE": "100000000",
           "ENGRAM_IP_RATE_LIMIT_PER_MINUTE": "100000000", "ENGRAM_LOCAL_RATE_LIMIT_PER_MINUTE": "100000000",
           **extra}  # fmt: skip
    cmd = [sys.executable, "-m", "engram_core.cli", "serve"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_profiler(pid: int, out: Path) -> Any:
    """``py-spy record`` attached to the running server (startup and seeding stay out of the profile)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    cmd = [spy, "record", "--pid", str(pid), "--format", "speedscope", "--rate", "100", "--threads",
           "--nonblocking", "-o", str(out)]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _wait_healthy(base: str) -> None:
    async with httpx.AsyncClient(base_url=base) as probe:
        for _ in range(600):
            try:
                if (await probe.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


async def sweep(args: argparse.Namespace) -> list[dict[str, Any]]:
    rng = random.Random(19)
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        keys, vocab = populate(data_dir, args.model_dir, args.memories, args.users, rng)
        extra = dict(kv.split("=", 1) for kv in args.env)
        procs: list[Any] = []
        bases: list[str] = []
        spy = None
        try:
            for _ in range(args.servers):  # one after the other: the first one migrates the file
                port = _port()
                procs.append(start_server(data_dir, args.model_dir, port, extra))
                bases.append(f"http://127.0.0.1:{port}")
                await _wait_healthy(bases[-1])
            pids = [p.pid for p in procs]
            mix = {op: float(w) for op, w in (kv.split("=") for kv in args.mix.split(","))}
            load = Load(bases, keys, vocab, seed=19, mix=mix, shared_pool=args.shared_pool)
            if args.profile is not None:
                spy = start_profiler(pids[0], args.profile)
            if not args.json:
                print(f"# {args.memories} memories, {args.users} users, {args.servers} server process(es),"
                      f" {args.seconds:g} s per step, loadavg {os.getloadavg()[0]:.2f}, {os.cpu_count()} CPUs",
                      flush=True)  # fmt: skip
                print(HEADER, flush=True)
            for clients in args.clients:
                step, cpu_s, ccpu_s, by_group = await load.step(clients, args.seconds, pids)
                rss = [proc_rss_mb(pid) for pid in pids]
                s = summarise(
                    step, args.seconds, cpu_s, ccpu_s, (sum(r[0] for r in rss), sum(r[1] for r in rss)), by_group
                )
                s["loadavg"] = round(os.getloadavg()[0], 2)
                results.append(s)
                print(json.dumps(s) if args.json else _row(s), flush=True)
                by_thread = s["server_cpu_ms_per_req_by_thread"]
                if not args.json and by_thread:
                    print(f"  {clients} clients, server CPU ms/req by thread: {by_thread}", flush=True)
        finally:
            if spy is not None:
                spy.send_signal(signal.SIGINT)  # py-spy writes the profile on SIGINT
                spy.wait(timeout=60)
            for proc in procs:
                proc.terminate()
                proc.wait(timeout=60)
            if args.keep is not None:  # after the servers stopped (their WAL checkpointed)
                shutil.copytree(data_dir, args.keep, dirs_exist_ok=True)
    return results


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, default=default_model_dir())
    parser.add_argument("--clients", default="1,4,16,64", help="comma-separated sweep")
    parser.add_argument("--seconds", type=float, default=15.0, help="per step (the issue's figure: 60)")
    parser.add_argument("--mix", default=",".join(f"{op}={w}" for op, w in MIX), help="e.g. search=1 (weights)")
    parser.add_argument("--memories", type=int, default=800)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--servers", type=int, default=1, help="server processes on one data dir (client i: i %% N)")
    parser.add_argument("--profile", type=Path, help="py-spy the server during the sweep (speedscope file)")
    parser.add_argument("--env", action="append", default=[], help="extra server setting NAME=VALUE")
    parser.add_argument("--json", action="store_true", help="one JSON object per step")
    parser.add_argument("--keep", type=Path, help="copy the data dir here after the sweep (a linked corpus)")
    parser.add_argument(
        "--shared-pool", action="store_true", help="all clients share one httpx pool (the bench before 2026-12-02)"
    )
    args = parser.parse_args(argv)
    args.clients = [int(c) for c in args.clients.split(",")]
    asyncio.run(sweep(args))


if __name__ == "__main__":
    main(sys.argv[1:])

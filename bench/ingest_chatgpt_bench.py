"""A ChatGPT ``conversations.json`` ingest of 10k messages against the bare embedder on the same texts.

    ENGRAM_MODELS_DIR=/work/main/data/models .venv/bin/python bench/ingest_chatgpt_bench.py [--messages 10000]

The export is generated here (never committed): conversations of 20 alternating user/assistant messages in
ChatGPT's real shape (``tests.ingest_files.chatgpt_export``), each message 8-60 words of plain English drawn
from a seeded generator, all distinct (no near-duplicates: every message is stored), each one chunk.

1. The bare embedder: ``EmbeddingManager.embed`` on the chunk texts in batches of ``ENGRAM_INGEST_BATCH``
   (the path the ingest embeds through, with every embed thread): texts/s.
2. The ingest, end to end: ``IngestService.submit`` (detect, parse, keep the upload, enqueue) until its job is
   done (parse again, embed, store, episodes, progress): messages/s, and the ratio to (1) (target >= 0.8).
3. The follow-up work the ingest queued (auto-link, understanding): seconds until the queue is drained after
   the ingest finished, and the job rows by kind (how many job rounds the ingest cost).
4. The bare embedder again: the machine is shared, so two bare runs bracket the ingest; the ratio uses their
   mean. The load average is printed at the start and at the end. ``--quick``: one bare run (before the
   ingest) and no wait for the follow-ups (the job rows still queued are printed).

``--rounds N`` (for a loaded, shared machine, where the load moves by 2x within minutes): the messages are cut
into N exports of their own (distinct seeds) and each round runs the bare embedder and the ingest on one of
them back to back, alternating which goes first; the ratio is over the sums. The follow-up jobs each ingest
queues are discarded unrun (the job queue is stopped after each ingest), so nothing else runs in between.
Each round also prints the process's CPU time per message of both (all threads): on a machine whose other load
takes cores away, the ratio of CPU times says what the wall-clock ratio would be where the embedder has both
cores, if the ingest's extra work overlaps the embedding.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch import scratch_engram  # noqa: E402
from engram_core.auth.context import AuthContext  # noqa: E402
from engram_core.engram import Engram  # noqa: E402

SUBJECTS = ("the harbour team", "my sister", "our landlord", "the new intern", "the billing service", "Priya",
            "the garden club", "the night shift", "my manager", "the sailing school", "the clinic", "Tomasz",
            "the build server", "our neighbours", "the school board", "the cargo ship")  # fmt: skip
VERBS = ("moved", "cancelled", "rescheduled", "approved", "rejected", "repaired", "ordered", "forgot",
         "painted", "measured", "reviewed", "shipped", "booked", "replaced", "tested", "priced")  # fmt: skip
OBJECTS = ("the quarterly invoice", "a flight to Lisbon", "the kitchen tiles", "the pump on deck two",
           "a dentist appointment", "the release notes", "the tomato seedlings", "the rental contract",
           "the vaccination record", "a birthday dinner", "the database migration", "the bike brakes",
           "the tax return", "a second-hand piano", "the roof gutter", "the onboarding checklist")  # fmt: skip
WHENS = ("on Monday", "last week", "before the storm", "after lunch", "in March", "yesterday evening",
         "at short notice", "for the third time", "before the deadline", "over the weekend")  # fmt: skip
ASIDES = ("because the budget was cut", "since nobody else had time", "which surprised everyone",
          "although the weather was bad", "so we can plan the summer", "and asked for a receipt",
          "while the office was closed", "to save roughly {n} euros", "after {n} emails back and forth",
          "and it took {n} minutes", "which means room {n} is free", "so ticket {n} can be closed")  # fmt: skip
QUESTIONS = ("What should I do next?", "Does that sound right to you?", "Can you remind me on Friday?",
             "How would you word the reply?", "Is there a cheaper option?", "Should I tell the others?")  # fmt: skip


def sentence(rng: random.Random) -> str:
    aside = rng.choice(ASIDES).format(n=rng.randint(2, 9999))
    return f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(WHENS)} {aside}."


def message(rng: random.Random, role: str) -> str:
    """8-60 words: one to four sentences, a user turn often ending in a question."""
    parts = [sentence(rng) for _ in range(rng.randint(1, 4))]
    if role == "user" and rng.random() < 0.5:
        parts.append(rng.choice(QUESTIONS))
    return " ".join(parts)


def export(messages: int, per_conversation: int = 20, seed: int = 16) -> tuple[bytes, list[str]]:
    """``conversations.json`` (ChatGPT's mapping tree, ``current_node`` at the leaf) and its message texts."""
    rng = random.Random(seed)
    out, texts = [], []
    start = 1_650_000_000.0
    for c in range((messages + per_conversation - 1) // per_conversation):
        mapping: dict[str, object] = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
        parent = "root"
        for m in range(min(per_conversation, messages - c * per_conversation)):
            node, role = f"c{c}-m{m}", "user" if m % 2 == 0 else "assistant"
            text = message(rng, role)
            texts.append(text)
            mapping[node] = {"id": node, "parent": parent, "children": [], "message": {
                "id": node, "author": {"role": role, "name": None, "metadata": {}},
                "create_time": start + c * 86400 + m * 60, "update_time": None,
                "content": {"content_type": "text", "parts": [text]}, "status": "finished_successfully",
                "end_turn": True, "weight": 1.0, "metadata": {}, "recipient": "all"}}  # fmt: skip
            mapping[parent]["children"].append(node)  # type: ignore[index]
            parent = node
        out.append({"title": f"Chat {c}", "create_time": start + c * 86400, "update_time": start + c * 86400 + 999,
                    "mapping": mapping, "moderation_results": [], "current_node": parent, "plugin_ids": None,
                    "conversation_id": f"conv-{c}", "id": f"conv-{c}"})  # fmt: skip
    return json.dumps(out).encode(), texts


async def bare(engram: Engram, texts: list[str], batch: int) -> float:
    t0 = time.perf_counter()
    for i in range(0, len(texts), batch):
        await engram.vectors.embed(texts[i : i + batch])
    return time.perf_counter() - t0


async def job_counts(engram: Engram) -> dict[str, int]:
    rows = await engram.db.aread(lambda c: c.execute("SELECT kind, count(*) FROM jobs GROUP BY kind").fetchall())
    return {str(r[0]): int(r[1]) for r in rows}


async def queued(engram: Engram) -> int:
    sql = "SELECT count(*) FROM jobs WHERE status IN ('queued', 'running')"
    return int(await engram.db.aread(lambda c: c.execute(sql).fetchone()[0]))


async def ingest(engram: Engram, data: bytes) -> tuple[float, dict[str, Any]]:
    """Submit ``data`` and wait until its job is done: (seconds, the job's ingest view)."""
    t0 = time.perf_counter()
    made = await engram.ingest.submit(AuthContext.local(1), data, {"filename": "conversations.json"})
    while (job := await engram.ingest.job(made["job_id"], None))["status"] not in ("done", "failed"):
        await asyncio.sleep(0.05)
    return time.perf_counter() - t0, job["ingest"]


async def rounds(engram: Engram, args: argparse.Namespace) -> None:
    await engram.start()
    await engram.jobs.stop()  # started per ingest, stopped after it
    batch = engram.settings.ingest_batch
    size = args.messages // args.rounds
    warm = export(batch * 2, seed=15)[1]
    await bare(engram, warm, batch)
    bare_total = ingest_total = 0.0
    for r in range(args.rounds):
        data, texts = export(size, seed=16 + r)
        docs = engram.ingest._parse(data, "conversations.json", None)
        chunks = [c.content for d in docs for c in d.chunks]
        took_bare = took = cpu_bare = cpu = 0.0
        for step in ("bare", "ingest") if r % 2 == 0 else ("ingest", "bare"):
            cpu0 = time.process_time()
            if step == "bare":
                took_bare = await bare(engram, chunks, batch)
                cpu_bare = time.process_time() - cpu0
                continue
            await engram.jobs.start()
            took, view = await ingest(engram, data)
            cpu = time.process_time() - cpu0
            await engram.jobs.stop()  # a follow-up claimed meanwhile is left 'running': dropped with the rest
            await engram.db.awrite(lambda c: c.execute("DELETE FROM jobs WHERE status IN ('queued', 'running')"))
        bare_total += took_bare
        ingest_total += took
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"round {r + 1}: bare {len(chunks) / took_bare:.1f} texts/s, ingest {len(texts) / took:.1f} messages/s"
              f" (stored {view['stored']}, duplicates {view['duplicates']}, failed {view['failed']}),"
              f" ratio {took_bare / took:.2f}; CPU ms a message: bare {1000 * cpu_bare / len(chunks):.1f},"
              f" ingest {1000 * cpu / len(texts):.1f}; load {load}")  # fmt: skip
    print(f"ratio ingest / bare embedder over {args.rounds} rounds of {size} messages: {bare_total / ingest_total:.2f}")
    await engram.stop()


async def run(engram: Engram, args: argparse.Namespace) -> None:
    if args.rounds > 1:
        await rounds(engram, args)
        return
    await engram.start()
    auth = AuthContext.local(1)
    batch = engram.settings.ingest_batch
    data, texts = export(args.messages)
    docs = engram.ingest._parse(data, "conversations.json", None)
    chunks = [c.content for d in docs for c in d.chunks]
    print(f"conversations.json: {len(texts)} messages, {len(chunks)} chunks, {len(data) / 1e6:.2f} MB,"
          f" mean {sum(len(t.split()) for t in texts) / len(texts):.0f} words a message")  # fmt: skip
    await bare(engram, chunks[: batch * 2], batch)  # warm the model and the threads
    first = await bare(engram, chunks, batch)
    print(f"bare embedder: {len(chunks) / first:.1f} texts/s ({first:.1f} s)")
    t0 = time.perf_counter()
    made = await engram.ingest.submit(auth, data, {"filename": "conversations.json"})
    while True:
        job = await engram.ingest.job(made["job_id"], None)
        if job["status"] in ("done", "failed"):
            break
        await asyncio.sleep(0.05)
    took = time.perf_counter() - t0
    view = job["ingest"]
    print(f"ingest: {job['status']}, stored {view['stored']}, duplicates {view['duplicates']}, failed"
          f" {view['failed']}; {len(texts) / took:.1f} messages/s ({took:.1f} s)")  # fmt: skip
    print(f"job rows when the ingest finished {await job_counts(engram)}; still queued {await queued(engram)}")
    if not args.quick:
        t1 = time.perf_counter()
        await engram.jobs.drain(timeout=3600)
        print(f"follow-ups drained {time.perf_counter() - t1:.1f} s after the ingest")
        second = await bare(engram, chunks, batch)
        print(f"bare embedder again: {len(chunks) / second:.1f} texts/s ({second:.1f} s)")
        mean = (first + second) / 2
        print(f"ratio ingest / bare embedder: {mean / took:.2f} (bare runs {first / took:.2f} and {second / took:.2f})")
    else:
        print(f"ratio ingest / bare embedder: {first / took:.2f}")
    await engram.stop()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--quick", action="store_true", help="one bare run, before; no wait for the follow-ups")
    parser.add_argument("--rounds", type=int, default=1, help="N back-to-back bare/ingest rounds (see the docstring)")
    args = parser.parse_args()
    with scratch_engram() as engram:
        print(f"model {engram.vectors.fingerprint}; batch {engram.settings.ingest_batch}; {os.cpu_count()} cores;"
              f" load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")  # fmt: skip
        asyncio.run(run(engram, args))
    print(f"load at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

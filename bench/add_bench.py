"""/add throughput: 10-message chats through extraction (rules tier), dedup and one store transaction.

    .venv/bin/python bench/add_bench.py [--chats 40]

Each chat is the 10-message test chat with its facts made unique per chat (so nothing is a duplicate),
run through ``ExtractService.add`` with the real embedding model; prints chats/s and memories/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engram_core.auth.context import AuthContext  # noqa: E402
from engram_core.auth.users import create_user  # noqa: E402
from engram_core.engram import Engram  # noqa: E402
from engram_core.settings import Settings  # noqa: E402
from tests.server.test_add import CHAT  # noqa: E402

CITIES = ["Lyon", "Oslo", "Quito", "Hanoi", "Accra", "Perth", "Cusco", "Tartu", "Bergen", "Izmir"]


def chat(i: int) -> list[dict[str, str]]:
    word = f"{CITIES[i % 10]}{i}"
    return [{"role": m["role"], "content": m["content"].replace("Lyon", word).replace("green tea", f"tea {word}")
             .replace("PostgreSQL", f"Postgres {word}").replace("Anna", f"Anna {word}")} for m in CHAT]  # fmt: skip


async def run(engram: Engram, n: int) -> tuple[float, int]:
    auth = AuthContext.local(1)
    stored = 0
    t0 = time.perf_counter()
    for i in range(n):
        stored += (await engram.intel.extract.add(auth, {"messages": chat(i)}))["added"]
    return time.perf_counter() - t0, stored


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=40)
    args = parser.parse_args()
    base = Settings.from_env()
    with tempfile.TemporaryDirectory() as tmp:
        engram = Engram.open(base.replace(data_dir=Path(tmp), db_path=Path(tmp) / "e.db", models_dir=base.models_dir))
        engram.db.write(lambda c: create_user(c, None, "bench", is_admin=True))
        elapsed, stored = asyncio.run(run(engram, args.chats))
        model = engram.vectors.fingerprint
        asyncio.run(engram.vectors.close())
        engram.close()
    print(f"model {model}; {args.chats} chats of 10 messages; load {os.getloadavg()[0]:.2f}")
    print(f"  {args.chats / elapsed:.1f} chats/s ({1000 * elapsed / args.chats:.0f} ms a chat), "
          f"{stored / elapsed:.1f} memories stored/s, {stored} stored")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

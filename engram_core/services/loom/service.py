"""Workflows (CRUD), runs (start, list, get, cancel), step callbacks and the periodic timeout check."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ...auth.context import AuthContext
from ...errors import Conflict, Invalid, NotFound
from ...storage.database import Database
from ...storage.owned import owned_row
from ...timeutil import now_iso, to_datetime
from ..axon import AxonService, Publisher
from ..common import json_dump, row_dict
from .definitions import RUN, RUNS, STEP_COMPLETE, STEP_FAIL, WORKFLOW, WORKFLOW_UPDATE
from .engine import advance, fail_step, finish_run
from .logs import RUN_LOGS, log_tx, run_logs

__all__ = ["Workflows"]


def workflow_dict(r: Any) -> dict[str, Any]:
    return row_dict(r, ("steps",))


def run_dict(r: Any) -> dict[str, Any]:
    out = row_dict(r, ("input",))
    out["output"] = json.loads(r["output"]) if r["output"] is not None else None
    return out


def step_dict(r: Any) -> dict[str, Any]:
    out = row_dict(r, ("config", "depends_on"))
    for key in ("input", "output"):
        out[key] = json.loads(r[key]) if r[key] is not None else None
    return out


class Workflows:
    def __init__(self, db: Database, axon: AxonService) -> None:
        self.db = db
        self.axon = axon

    # -- workflows ------------------------------------------------------------------------------------
    async def create(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = WORKFLOW.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            if conn.execute("SELECT 1 FROM loom_workflows WHERE user_id = ? AND name = ?",
                            (auth.user_id, q["name"])).fetchone():  # fmt: skip
                raise Conflict(f"workflow {q['name']!r} exists already")
            now = now_iso()
            cur = conn.execute("INSERT INTO loom_workflows (user_id, name, description, steps, created_at, updated_at)"
                               " VALUES (?, ?, ?, ?, ?, ?)", (auth.user_id, q["name"], q["description"],
                                                               json_dump(q["steps"]), now, now))  # fmt: skip
            return workflow_dict(owned_row(conn, "loom_workflows", auth.user_id, int(cur.lastrowid), "workflow"))

        return await self.db.awrite(tx)

    async def workflows(self, auth: AuthContext) -> dict[str, Any]:
        sql = "SELECT * FROM loom_workflows WHERE user_id = ? ORDER BY id"
        rows = await self.db.aread(lambda c: c.execute(sql, (auth.user_id,)).fetchall())
        return {"workflows": [workflow_dict(r) for r in rows], "count": len(rows)}

    async def workflow(self, auth: AuthContext, wf_id: int) -> dict[str, Any]:
        return workflow_dict(await self.db.aread(lambda c: owned_row(c, "loom_workflows", auth.user_id, wf_id,
                                                                     "workflow")))  # fmt: skip

    async def update(self, auth: AuthContext, wf_id: int, body: Any) -> dict[str, Any]:
        q = WORKFLOW_UPDATE.parse(body, partial=True)
        if "steps" in q and q["steps"] is None:
            raise Invalid("steps", "must be a non-empty list of steps")

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "loom_workflows", auth.user_id, wf_id, "workflow")
            if q.get("name") and conn.execute("SELECT 1 FROM loom_workflows WHERE user_id = ? AND name = ? AND id != ?",
                                              (auth.user_id, q["name"], wf_id)).fetchone():  # fmt: skip
                raise Conflict(f"workflow {q['name']!r} exists already")
            changes = {k: (json_dump(v) if k == "steps" else v) for k, v in q.items() if v is not None}
            if changes:
                sets = ", ".join(f"{k} = ?" for k in changes)
                conn.execute(f"UPDATE loom_workflows SET {sets}, updated_at = ? WHERE id = ?",
                             (*changes.values(), now_iso(), wf_id))  # fmt: skip
            return workflow_dict(owned_row(conn, "loom_workflows", auth.user_id, wf_id, "workflow"))

        return await self.db.awrite(tx)

    async def delete(self, auth: AuthContext, wf_id: int) -> dict[str, Any]:
        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "loom_workflows", auth.user_id, wf_id, "workflow")
            conn.execute("DELETE FROM loom_workflows WHERE id = ?", (wf_id,))
            return {"ok": True, "deleted": True, "id": wf_id}

        return await self.db.awrite(tx)

    # -- runs -----------------------------------------------------------------------------------------
    async def start(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = RUN.parse(body)
        if q["workflow_id"] is None and not q["workflow_name"]:
            raise Invalid("workflow_id", "is required (or workflow_name)")

        def tx(conn: Any, pub: Publisher) -> dict[str, Any]:
            if q["workflow_id"] is not None:
                wf = owned_row(conn, "loom_workflows", auth.user_id, q["workflow_id"], "workflow")
            else:
                wf = conn.execute("SELECT * FROM loom_workflows WHERE user_id = ? AND name = ?",
                                  (auth.user_id, q["workflow_name"])).fetchone()  # fmt: skip
                if wf is None:
                    raise NotFound(f"workflow {q['workflow_name']!r} not found")
            steps = json.loads(wf["steps"])
            if not steps:
                raise Invalid("workflow_id", "workflow has no steps")
            now = now_iso()
            cur = conn.execute("INSERT INTO loom_runs (user_id, workflow_id, status, input, started_at, created_at,"
                               " updated_at) VALUES (?, ?, 'running', ?, ?, ?, ?)",
                               (auth.user_id, wf["id"], json_dump(q["input"] or {}), now, now, now))  # fmt: skip
            run_id = int(cur.lastrowid)
            for s in steps:
                conn.execute("INSERT INTO loom_steps (user_id, run_id, name, type, config, depends_on, max_retries,"
                             " timeout_ms, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (auth.user_id, run_id, s["name"], s["type"], json_dump(s.get("config") or {}),
                              json_dump(s.get("depends_on") or []), s.get("max_retries", 3), s.get("timeout_ms", 30000),
                              now))  # fmt: skip
            log_tx(conn, auth.user_id, run_id, None, "info", f"run started ({wf['name']})",
                   {"workflow_id": wf["id"], "workflow": wf["name"], "steps": len(steps)})  # fmt: skip
            advance(conn, pub, run_id)
            return self._run(conn, auth.user_id, run_id)

        return await self.axon.write(tx)

    def _run(self, conn: Any, user_id: int, run_id: int) -> dict[str, Any]:
        run = owned_row(conn, "loom_runs", user_id, run_id, "run")
        steps = conn.execute("SELECT * FROM loom_steps WHERE run_id = ? ORDER BY id", (run_id,)).fetchall()
        return {**run_dict(run), "steps": [step_dict(s) for s in steps]}

    async def runs(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        q = RUNS.parse(query)
        sql, args = "SELECT * FROM loom_runs WHERE user_id = ?", [auth.user_id]
        for key in ("workflow_id", "status"):
            if q[key] is not None:
                sql += f" AND {key} = ?"
                args.append(q[key])
        rows = await self.db.aread(
            lambda c: c.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, q["limit"])).fetchall()
        )
        return {"runs": [run_dict(r) for r in rows], "count": len(rows)}

    async def run(self, auth: AuthContext, run_id: int) -> dict[str, Any]:
        return await self.db.aread(lambda c: self._run(c, auth.user_id, run_id))

    async def steps(self, auth: AuthContext, run_id: int) -> dict[str, Any]:
        steps = (await self.run(auth, run_id))["steps"]
        return {"steps": steps, "count": len(steps)}

    async def logs(self, auth: AuthContext, run_id: int, query: Any) -> dict[str, Any]:
        q = RUN_LOGS.parse(query)
        return await self.db.aread(lambda c: run_logs(c, auth, run_id, q))

    async def cancel(self, auth: AuthContext, run_id: int) -> dict[str, Any]:
        def tx(conn: Any, pub: Publisher) -> dict[str, Any]:
            run = owned_row(conn, "loom_runs", auth.user_id, run_id, "run")
            if run["status"] not in ("pending", "running"):
                return {"ok": False, "status": run["status"]}
            finish_run(conn, pub, run, "cancelled", None, None)
            return {"ok": True, "status": "cancelled"}

        return await self.axon.write(tx)

    # -- step callbacks -------------------------------------------------------------------------------
    def _running_step(self, conn: Any, user_id: int, step_id: int) -> Any:
        step = owned_row(conn, "loom_steps", user_id, step_id, "step")
        if step["status"] != "running":
            raise Conflict(f"step {step_id} is {step['status']}, not running")
        return step

    async def complete(self, auth: AuthContext, step_id: int, body: Any) -> dict[str, Any]:
        q = STEP_COMPLETE.parse(body)

        def tx(conn: Any, pub: Publisher) -> dict[str, Any]:
            step = self._running_step(conn, auth.user_id, step_id)
            conn.execute("UPDATE loom_steps SET status = 'completed', output = ?, error = NULL, completed_at = ?"
                         " WHERE id = ?", (json_dump(q["output"]), now_iso(), step_id))  # fmt: skip
            log_tx(conn, auth.user_id, step["run_id"], step_id, "info", f"step {step['name']} completed")
            advance(conn, pub, step["run_id"])
            return {"ok": True, "run": run_dict(owned_row(conn, "loom_runs", auth.user_id, step["run_id"], "run"))}

        return await self.axon.write(tx)

    async def fail(self, auth: AuthContext, step_id: int, body: Any) -> dict[str, Any]:
        q = STEP_FAIL.parse(body)

        def tx(conn: Any, pub: Publisher) -> dict[str, Any]:
            step = self._running_step(conn, auth.user_id, step_id)
            retried = fail_step(conn, pub, step, q["error"])
            run = owned_row(conn, "loom_runs", auth.user_id, step["run_id"], "run")
            return {"ok": True, "retried": retried, "run": run_dict(run)}

        return await self.axon.write(tx)

    async def stats(self, auth: AuthContext) -> dict[str, Any]:
        def run(conn: Any) -> dict[str, Any]:
            def one(sql: str) -> int:
                return int(conn.execute(sql, (auth.user_id,)).fetchone()[0])

            return {"workflows": one("SELECT count(*) FROM loom_workflows WHERE user_id = ?"),
                    "runs": one("SELECT count(*) FROM loom_runs WHERE user_id = ?"),
                    "active_runs": one("SELECT count(*) FROM loom_runs WHERE user_id = ? AND status IN"
                                       " ('pending', 'running')"),
                    "steps": one("SELECT count(*) FROM loom_steps WHERE user_id = ?")}  # fmt: skip

        return await self.db.aread(run)

    async def check_timeouts(self) -> int:
        """Periodic: a running step past its ``timeout_ms`` fails (and is retried if it may)."""

        def tx(conn: Any, pub: Publisher) -> int:
            now = datetime.now(UTC)
            late = 0
            for row in conn.execute("SELECT id FROM loom_steps WHERE status = 'running'").fetchall():
                step = conn.execute("SELECT * FROM loom_steps WHERE id = ?", (row["id"],)).fetchone()
                if step["status"] != "running":  # skipped meanwhile: an earlier step failed the run
                    continue
                started = to_datetime(step["started_at"]) if step["started_at"] else now
                if now - started > timedelta(milliseconds=step["timeout_ms"]):
                    fail_step(conn, pub, step, f"timed out after {step['timeout_ms']} ms")
                    late += 1
            return late

        return await self.axon.write(tx)

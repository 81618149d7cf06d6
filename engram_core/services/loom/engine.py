"""Advancing a run, inside the caller's write transaction.

A pending step whose dependencies all completed becomes ready: its input is the run's input merged
with its dependencies' outputs (objects merged, others under the dependency's name). A ``transform``
step runs inline; every other step becomes ``running`` and a ``loom.step.ready`` event on the ``loom``
channel tells agents to do it (they answer with complete/fail). A failed step fails the run and skips
what is left; a run with nothing pending or running is completed with its last completed step's output.
"""

from __future__ import annotations

import json
from typing import Any

from ...timeutil import now_iso
from ..axon import Publisher
from .definitions import transform
from .logs import log_tx

__all__ = ["CHANNEL", "advance", "fail_step", "finish_run"]

CHANNEL = "loom"


def _steps(conn: Any, run_id: int) -> list[Any]:
    return list(conn.execute("SELECT * FROM loom_steps WHERE run_id = ? ORDER BY id", (run_id,)).fetchall())


def _merged_input(run: Any, steps: list[Any], deps: list[str]) -> Any:
    data: dict[str, Any] = dict(json.loads(run["input"]) or {})
    by_name = {s["name"]: s for s in steps}
    for dep in deps:
        out = json.loads(by_name[dep]["output"]) if by_name[dep]["output"] else None
        if isinstance(out, dict):
            data.update(out)
        else:
            data[dep] = out
    return data


def advance(conn: Any, pub: Publisher, run_id: int) -> None:
    run = conn.execute("SELECT * FROM loom_runs WHERE id = ?", (run_id,)).fetchone()
    if run is None or run["status"] not in ("pending", "running"):
        return
    user = run["user_id"]
    progressed = True
    while progressed:
        progressed = False
        steps = _steps(conn, run_id)
        if any(s["status"] == "failed" for s in steps):
            failed = next(s for s in steps if s["status"] == "failed")
            finish_run(conn, pub, run, "failed", None, f"step {failed['name']} failed: {failed['error']}")
            return
        done = {s["name"] for s in steps if s["status"] == "completed"}
        for step in steps:
            deps = json.loads(step["depends_on"])
            if step["status"] != "pending" or not set(deps) <= done:
                continue
            data = _merged_input(run, steps, deps)
            now = now_iso()
            if step["type"] == "transform":
                out = transform(json.loads(step["config"]), data)
                conn.execute("UPDATE loom_steps SET status = 'completed', input = ?, output = ?, started_at = ?,"
                             " completed_at = ? WHERE id = ?", (json.dumps(data), json.dumps(out), now, now,
                                                                 step["id"]))  # fmt: skip
                log_tx(conn, user, run_id, step["id"], "info", f"step {step['name']} completed (transform)")
                progressed = True
                break  # re-read: a completed transform may make more steps ready
            conn.execute("UPDATE loom_steps SET status = 'running', input = ?, started_at = ? WHERE id = ?",
                         (json.dumps(data), now, step["id"]))  # fmt: skip
            log_tx(conn, user, run_id, step["id"], "info", f"step {step['name']} started ({step['type']})")
            pub.publish(user, CHANNEL, "loom.step.ready", {"run_id": run_id, "step_id": step["id"], "name":
                        step["name"], "type": step["type"], "config": json.loads(step["config"]), "input": data},
                        "loom")  # fmt: skip
    steps = _steps(conn, run_id)
    if not any(s["status"] in ("pending", "running") for s in steps):
        completed = [s for s in steps if s["status"] == "completed"]
        last = max(completed, key=lambda s: (s["completed_at"] or "", s["id"])) if completed else None
        output = json.loads(last["output"]) if last is not None and last["output"] else None
        finish_run(conn, pub, run, "completed", output, None)
    elif run["status"] == "pending":
        conn.execute("UPDATE loom_runs SET status = 'running', updated_at = ? WHERE id = ?", (now_iso(), run_id))


def finish_run(conn: Any, pub: Publisher, run: Any, status: str, output: Any, error: str | None) -> None:
    now = now_iso()
    conn.execute("UPDATE loom_steps SET status = 'skipped' WHERE run_id = ? AND status IN ('pending', 'running')",
                 (run["id"],))  # fmt: skip
    out = json.dumps(output) if output is not None else None
    conn.execute("UPDATE loom_runs SET status = ?, output = ?, error = ?, completed_at = ?, updated_at = ?"
                 " WHERE id = ?", (status, out, error, now, now, run["id"]))  # fmt: skip
    level = {"completed": "info", "cancelled": "warn"}.get(status, "error")
    log_tx(conn, run["user_id"], run["id"], None, level, f"run {status}" + (f": {error}" if error else ""))
    pub.publish(run["user_id"], CHANNEL, f"loom.run.{status}", {"run_id": run["id"], "workflow_id":
                run["workflow_id"], "output": output, "error": error}, "loom")  # fmt: skip


def fail_step(conn: Any, pub: Publisher, step: Any, error: str) -> bool:
    """Fail a running step: run it again while retries are left (True), else fail it and the run."""
    now = now_iso()
    tries = f"attempt {step['retry_count'] + 1} of {step['max_retries'] + 1}"
    if step["retry_count"] < step["max_retries"]:
        log_tx(conn, step["user_id"], step["run_id"], step["id"], "warn",
               f"step {step['name']} failed ({tries}), retrying: {error}")  # fmt: skip
        conn.execute("UPDATE loom_steps SET retry_count = retry_count + 1, error = ?, started_at = ? WHERE id = ?",
                     (error, now, step["id"]))  # fmt: skip
        pub.publish(step["user_id"], CHANNEL, "loom.step.ready", {"run_id": step["run_id"], "step_id": step["id"],
                    "name": step["name"], "type": step["type"], "config": json.loads(step["config"]),
                    "input": json.loads(step["input"] or "{}"), "retry": step["retry_count"] + 1,
                    "error": error}, "loom")  # fmt: skip
        return True
    conn.execute("UPDATE loom_steps SET status = 'failed', error = ?, completed_at = ? WHERE id = ?",
                 (error, now, step["id"]))  # fmt: skip
    log_tx(conn, step["user_id"], step["run_id"], step["id"], "error", f"step {step['name']} failed ({tries}): {error}")
    advance(conn, pub, step["run_id"])
    return False

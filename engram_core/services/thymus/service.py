"""Rubrics (CRUD), evaluations (scored by the caller, or by the optional LLM when no scores are given),
metrics with summaries over time, per-agent scores, drift events and session quality, and stats."""

from __future__ import annotations

import json
from typing import Any

from ...auth.context import AuthContext
from ...errors import Conflict, Invalid, LlmUnavailable, Unavailable
from ...llm.client import LlmClient
from ...storage.database import Database
from ...storage.owned import owned_row
from ...timeutil import now_iso
from ..axon import AxonService, Publisher
from ..common import filters, json_dump, row_dict
from .drift import (
    DRIFT_EVENT,
    DRIFT_EVENTS,
    DRIFT_SUMMARY,
    SESSION_QUALITY,
    SESSION_QUALITY_LIST,
    drift_tx,
    session_dict,
    session_tx,
)
from .rubrics import EVALUATE, EVALUATIONS, METRIC, METRICS, RUBRIC, RUBRIC_UPDATE, SUMMARY, overall

__all__ = ["Quality"]

_BUCKETS = {"hour": 13, "day": 10}  # ISO prefix lengths; week is computed with strftime


def rubric_dict(r: Any) -> dict[str, Any]:
    return row_dict(r, ("criteria",))


def evaluation_dict(r: Any) -> dict[str, Any]:
    return row_dict(r, ("input", "output", "scores"))


class Quality:
    def __init__(self, db: Database, llm: LlmClient | None, axon: AxonService) -> None:
        self.db = db
        self.llm = llm
        self.axon = axon

    # -- rubrics --------------------------------------------------------------------------------------
    async def create(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = RUBRIC.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            if conn.execute(
                "SELECT 1 FROM thymus_rubrics WHERE user_id = ? AND name = ?", (auth.user_id, q["name"])
            ).fetchone():
                raise Conflict(f"rubric {q['name']!r} exists already")
            now = now_iso()
            cur = conn.execute(
                "INSERT INTO thymus_rubrics (user_id, name, description, criteria, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (auth.user_id, q["name"], q["description"], json_dump(q["criteria"]), now, now),
            )
            return rubric_dict(owned_row(conn, "thymus_rubrics", auth.user_id, int(cur.lastrowid), "rubric"))

        return await self.db.awrite(tx)

    async def rubrics(self, auth: AuthContext) -> dict[str, Any]:
        sql = "SELECT * FROM thymus_rubrics WHERE user_id = ? ORDER BY id"
        rows = await self.db.aread(lambda c: c.execute(sql, (auth.user_id,)).fetchall())
        return {"rubrics": [rubric_dict(r) for r in rows], "count": len(rows)}

    async def rubric(self, auth: AuthContext, rubric_id: int) -> dict[str, Any]:
        return rubric_dict(
            await self.db.aread(lambda c: owned_row(c, "thymus_rubrics", auth.user_id, rubric_id, "rubric"))
        )

    async def update(self, auth: AuthContext, rubric_id: int, body: Any) -> dict[str, Any]:
        q = RUBRIC_UPDATE.parse(body, partial=True)
        if "criteria" in q and q["criteria"] is None:
            raise Invalid("criteria", "must be a non-empty list of criteria")

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "thymus_rubrics", auth.user_id, rubric_id, "rubric")
            if (
                q.get("name")
                and conn.execute(
                    "SELECT 1 FROM thymus_rubrics WHERE user_id = ? AND name = ? AND id != ?",
                    (auth.user_id, q["name"], rubric_id),
                ).fetchone()
            ):
                raise Conflict(f"rubric {q['name']!r} exists already")
            changes = {k: (json_dump(v) if k == "criteria" else v) for k, v in q.items() if v is not None}
            if changes:
                sets = ", ".join(f"{k} = ?" for k in changes)
                conn.execute(
                    f"UPDATE thymus_rubrics SET {sets}, updated_at = ? WHERE id = ?",
                    (*changes.values(), now_iso(), rubric_id),
                )
            return rubric_dict(owned_row(conn, "thymus_rubrics", auth.user_id, rubric_id, "rubric"))

        return await self.db.awrite(tx)

    async def delete(self, auth: AuthContext, rubric_id: int) -> dict[str, Any]:
        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "thymus_rubrics", auth.user_id, rubric_id, "rubric")
            conn.execute("DELETE FROM thymus_rubrics WHERE id = ?", (rubric_id,))
            return {"ok": True, "deleted": True, "id": rubric_id}

        return await self.db.awrite(tx)

    # -- evaluations ----------------------------------------------------------------------------------
    async def evaluate(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = EVALUATE.parse(body)
        rubric = await self.rubric(auth, q["rubric_id"])
        scores, evaluator = q["scores"], q["evaluator"]
        if scores is None:
            scores, evaluator = await self._llm_scores(rubric, q), "llm"
        kept, total = overall(rubric["criteria"], scores)

        def tx(conn: Any) -> dict[str, Any]:
            owned_row(conn, "thymus_rubrics", auth.user_id, q["rubric_id"], "rubric")  # still there
            cur = conn.execute(
                "INSERT INTO thymus_evaluations (user_id, rubric_id, agent, subject, input, output, scores,"
                " overall_score, notes, evaluator, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    auth.user_id,
                    q["rubric_id"],
                    q["agent"],
                    q["subject"],
                    json_dump(q["input"] or {}),
                    json_dump(q["output"] or {}),
                    json_dump(kept),
                    total,
                    q["notes"],
                    evaluator,
                    now_iso(),
                ),
            )
            return evaluation_dict(
                owned_row(conn, "thymus_evaluations", auth.user_id, int(cur.lastrowid), "evaluation")
            )

        return await self.db.awrite(tx)

    async def _llm_scores(self, rubric: dict[str, Any], q: dict[str, Any]) -> Any:
        if self.llm is None or not self.llm.configured:
            raise Invalid("scores", "is required (no LLM is configured to score)")
        crit = [{k: c[k] for k in ("name", "description", "scale_min", "scale_max")} for c in rubric["criteria"]]
        system = (
            "You grade work against a rubric. Answer only with a JSON object mapping each criterion name"
            " to a number within its scale."
        )
        user = json.dumps({"criteria": crit, "subject": q["subject"], "input": q["input"], "output": q["output"]})
        try:
            return await self.llm.chat_json(system, user[:12000], max_tokens=400)
        except LlmUnavailable as exc:
            raise Unavailable(f"the LLM could not score: {exc.message}") from None

    async def evaluations(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        q = EVALUATIONS.parse(query)
        sql, args = "SELECT * FROM thymus_evaluations WHERE user_id = ?", [auth.user_id]
        for key in ("agent", "rubric_id"):
            if q[key] is not None:
                sql += f" AND {key} = ?"
                args.append(q[key])
        rows = await self.db.aread(
            lambda c: c.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, q["limit"])).fetchall()
        )
        return {"evaluations": [evaluation_dict(r) for r in rows], "count": len(rows)}

    async def evaluation(self, auth: AuthContext, eval_id: int) -> dict[str, Any]:
        return evaluation_dict(
            await self.db.aread(lambda c: owned_row(c, "thymus_evaluations", auth.user_id, eval_id, "evaluation"))
        )

    async def agent_scores(self, auth: AuthContext, agent: str) -> dict[str, Any]:
        sql = "SELECT scores, overall_score FROM thymus_evaluations WHERE user_id = ? AND agent = ?"
        rows = await self.db.aread(lambda c: c.execute(sql, (auth.user_id, agent)).fetchall())
        by: dict[str, list[float]] = {}
        for r in rows:
            for name, value in json.loads(r["scores"]).items():
                by.setdefault(name, []).append(float(value))
        overall_avg = sum(r["overall_score"] for r in rows) / len(rows) if rows else None
        return {
            "agent": agent,
            "overall_avg": overall_avg,
            "evaluation_count": len(rows),
            "by_criterion": {
                n: {"avg": sum(v) / len(v), "min": min(v), "max": max(v), "count": len(v)} for n, v in by.items()
            },
        }

    # -- metrics --------------------------------------------------------------------------------------
    async def record(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = METRIC.parse(body)

        def tx(conn: Any) -> dict[str, Any]:
            cur = conn.execute(
                "INSERT INTO thymus_metrics (user_id, agent, metric, value, tags, recorded_at) VALUES"
                " (?, ?, ?, ?, ?, ?)",
                (auth.user_id, q["agent"], q["metric"], q["value"], json_dump(q["tags"] or {}), now_iso()),
            )
            return row_dict(owned_row(conn, "thymus_metrics", auth.user_id, int(cur.lastrowid), "metric"), ("tags",))

        return await self.db.awrite(tx)

    def _metric_sql(self, auth: AuthContext, q: dict[str, Any]) -> tuple[str, list[Any]]:
        sql, args = " FROM thymus_metrics WHERE user_id = ?", [auth.user_id]
        for key in ("agent", "metric"):
            if q[key]:
                sql += f" AND {key} = ?"
                args.append(q[key])
        if q["since"]:
            sql += " AND recorded_at >= ?"
            args.append(q["since"])
        return sql, args

    async def metrics(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        q = METRICS.parse(query)
        sql, args = self._metric_sql(auth, q)
        rows = await self.db.aread(
            lambda c: c.execute(
                "SELECT *" + sql + " ORDER BY recorded_at DESC, id DESC LIMIT ?", (*args, q["limit"])
            ).fetchall()
        )
        return {"metrics": [row_dict(r, ("tags",)) for r in rows], "count": len(rows)}

    async def summary(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """avg/min/max/count of the matching values, and a series per hour, day or week."""
        q = SUMMARY.parse(query)
        sql, args = self._metric_sql(auth, q)
        bucket = {
            "hour": "substr(recorded_at, 1, 13)",
            "day": "substr(recorded_at, 1, 10)",
            "week": "strftime('%Y-W%W', substr(recorded_at, 1, 19))",
        }.get(q["bucket"])

        def run(conn: Any) -> dict[str, Any]:
            row = conn.execute("SELECT avg(value), min(value), max(value), count(*)" + sql, args).fetchone()
            series = []
            if bucket:
                series = [
                    {"bucket": r[0], "avg": r[1], "min": r[2], "max": r[3], "count": r[4]}
                    for r in conn.execute(
                        f"SELECT {bucket} AS b, avg(value), min(value), max(value), count(*)" + sql + " GROUP BY b"
                        " ORDER BY b",
                        args,
                    )
                ]
            return {"avg": row[0], "min": row[1], "max": row[2], "count": row[3], "series": series}

        out = await self.db.aread(run)
        return {**out, "agent": q["agent"] or "*", "metric": q["metric"] or "*", "bucket": q["bucket"]}

    # -- drift events and session quality -------------------------------------------------------------
    async def record_drift(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = DRIFT_EVENT.parse(body)

        def tx(conn: Any, pub: Publisher) -> dict[str, Any]:
            row = drift_tx(conn, auth.user_id, q)
            pub.publish(auth.user_id, "quality", "drift.detected", row, "thymus")
            return row

        return await self.axon.write(tx)

    async def drift_events(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        q = DRIFT_EVENTS.parse(query)
        cols = {k: k for k in ("agent", "drift_type", "severity", "session_id")}
        sql, args = filters("SELECT * FROM thymus_drift_events", auth.user_id, q, cols)
        rows = await self.db.aread(
            lambda c: c.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, q["limit"])).fetchall()
        )
        return {"drift_events": [dict(r) for r in rows], "count": len(rows)}

    async def drift_summary(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        """Counts by drift type and severity (of one agent with ?agent=, since ?since=)."""
        q = DRIFT_SUMMARY.parse(query)
        sql, args = filters("SELECT drift_type, severity, count(*) FROM thymus_drift_events", auth.user_id, q,
                            {"agent": "agent"})  # fmt: skip
        if q["since"]:
            sql += " AND created_at >= ?"
            args.append(q["since"])
        sql += " GROUP BY drift_type, severity ORDER BY count(*) DESC, drift_type, severity"
        rows = await self.db.aread(lambda c: c.execute(sql, args).fetchall())
        summary = [{"drift_type": r[0], "severity": r[1], "count": r[2]} for r in rows]
        return {"summary": summary, "total": sum(x["count"] for x in summary), "agent": q["agent"] or "*"}

    async def record_session(self, auth: AuthContext, body: Any) -> dict[str, Any]:
        q = SESSION_QUALITY.parse(body)

        def tx(conn: Any, pub: Publisher) -> dict[str, Any]:
            row = session_tx(conn, auth.user_id, q)
            pub.publish(auth.user_id, "quality", "session.quality", row, "thymus")
            return row

        return await self.axon.write(tx)

    async def sessions(self, auth: AuthContext, query: Any) -> dict[str, Any]:
        q = SESSION_QUALITY_LIST.parse(query)
        cols = {"agent": "agent", "session_id": "session_id"}
        sql, args = filters("SELECT * FROM thymus_session_quality", auth.user_id, q, cols)
        rows = await self.db.aread(
            lambda c: c.execute(sql + " ORDER BY id DESC LIMIT ?", (*args, q["limit"])).fetchall()
        )
        return {"session_quality": [session_dict(r) for r in rows], "count": len(rows)}

    async def stats(self, auth: AuthContext) -> dict[str, Any]:
        def run(conn: Any) -> dict[str, Any]:
            def one(sql: str) -> int:
                return int(conn.execute(sql, (auth.user_id,)).fetchone()[0])

            by_rubric = [
                {"rubric_id": r[0], "name": r[1], "evaluations": r[2], "avg_score": r[3]}
                for r in conn.execute(
                    "SELECT r.id, r.name, count(e.id), avg(e.overall_score) FROM thymus_rubrics r"
                    " LEFT JOIN thymus_evaluations e ON e.rubric_id = r.id WHERE r.user_id = ?"
                    " GROUP BY r.id ORDER BY r.id",
                    (auth.user_id,),
                )
            ]
            return {
                "rubrics": one("SELECT count(*) FROM thymus_rubrics WHERE user_id = ?"),
                "evaluations": one("SELECT count(*) FROM thymus_evaluations WHERE user_id = ?"),
                "metrics": one("SELECT count(*) FROM thymus_metrics WHERE user_id = ?"),
                "drift_events": one("SELECT count(*) FROM thymus_drift_events WHERE user_id = ?"),
                "sessions": one("SELECT count(*) FROM thymus_session_quality WHERE user_id = ?"),
                "agent_count": one(
                    "SELECT count(DISTINCT agent) FROM (SELECT agent FROM thymus_evaluations"
                    " WHERE user_id = ?1 UNION SELECT agent FROM thymus_metrics WHERE user_id = ?1)"
                ),
                "by_rubric": by_rubric,
            }

        return await self.db.aread(run)

"""chiasm: tasks with status, assignee, priority and the history of every change."""

from __future__ import annotations

from .service import TaskService

__all__ = ["TaskService"]

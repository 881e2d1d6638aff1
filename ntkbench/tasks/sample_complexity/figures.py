"""The leaderboard's charts for this task (as data; the leaderboard draws them)."""

from __future__ import annotations

from typing import Any


def figures(records: list[dict]) -> list[Any]:
    return []  # filled in from the leaderboard's former per-task figures

"""Helpers shared by the sweep tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_records(path: Path) -> list[dict[str, Any]]:
    """The JSON Lines records of a results file, in file order."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def without_time(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Records by trial id, minus ``fit_time`` (the one field that differs between runs)."""
    return {r["trial_id"]: {k: v for k, v in r.items() if k != "fit_time"} for r in records}

"""JSON for values that may hold non-finite floats, which JSON has no words for."""

from __future__ import annotations

import math
from typing import Any


def json_ready(value: Any) -> Any:
    """``value`` (nested dicts, lists and tuples) with every non-finite float as ``None``:
    JSON has no NaN or Infinity, and ``json.dumps`` would write them as invalid JSON (a
    browser's ``JSON.parse`` refuses them). Readers show ``null`` as "no number"."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    return value

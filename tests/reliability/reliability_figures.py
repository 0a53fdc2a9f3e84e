"""The figures issue 7 asks for, collected while the reliability tests run.

Tests call :func:`count`; ``conftest.py`` prints the totals at the end of the session and writes
them as JSON (``reliability-figures.json`` in pytest's base temporary folder).
"""

from __future__ import annotations

from collections import Counter

FIGURES: dict[str, Counter[str]] = {
    "bad_input_cases": Counter(),  # (case, entry point) pairs checked, by entry point
    "bad_input_skipped": Counter(),  # pairs recorded as not applicable, by entry point
    "kills_survived": Counter(),  # SIGKILLs after which the run resumed bit-identically
    "fuzz_executions": Counter(),  # inputs fed to each parser
}


def count(figure: str, key: str, n: int = 1) -> None:
    """Add ``n`` to ``FIGURES[figure][key]``."""
    FIGURES[figure][key] += n


def as_dict() -> dict[str, dict[str, int]]:
    """The figures, JSON-ready, with a total per figure."""
    out: dict[str, dict[str, int]] = {}
    for name, counter in FIGURES.items():
        table = dict(sorted(counter.items()))
        table["total"] = sum(counter.values())
        out[name] = table
    return out

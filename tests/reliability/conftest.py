"""Reliability tests (issue 7): strict floating point and the figures.

The ``fuzz`` marker (registered in pyproject.toml) marks the time-bounded fuzzers;
``CHAINRULE_FUZZ_SECONDS`` sets their total budget (short by default, long for ``make fuzz``).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from reliability_figures import as_dict


@pytest.fixture(autouse=True)
def _strict_floating_point() -> Iterator[None]:
    """As suite-wide: numpy raises on any floating-point problem, RuntimeWarnings are errors."""
    with np.errstate(all="raise"), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        yield


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    figures = as_dict()
    if not any(table["total"] for table in figures.values()):
        return
    path = Path(str(config._tmp_path_factory.getbasetemp())) / "reliability-figures.json"  # type: ignore[attr-defined]
    path.write_text(json.dumps(figures, indent=1))
    terminalreporter.section("reliability figures (issue 7)")
    for name, table in figures.items():
        terminalreporter.write_line(f"{name}: {table['total']}")
        for key, value in table.items():
            if key != "total":
                terminalreporter.write_line(f"    {key}: {value}")
    terminalreporter.write_line(f"written to {path}")

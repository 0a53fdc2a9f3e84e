"""Run the real ``chainrule`` command in a subprocess, as a user's shell would.

Importable from every test folder: pytest puts ``tests/`` (the folder of the root conftest) on
``sys.path``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np


def chainrule(
    *args: str | Path,
    cwd: Path | None = None,
    timeout: float = 120,
    preexec_fn: Callable[[], object] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m chainrule ARGS`` with no stdin, run in ``cwd``; its exit status and text
    output. ``preexec_fn`` runs in the child before the command (to set resource limits, say)."""
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        check=False,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        preexec_fn=preexec_fn,
    )


def far_from_zero_model(folder: Path, n: int) -> tuple[Path, Path]:
    """A model file trained on ``n`` rows of two features far from 0 (so its stored
    standardisation matters), and that data as CSV: ``(model, data)``."""
    from chainrule.datasets import load_csv
    from chainrule.fit import TrainConfig, fit

    X = np.random.default_rng(0).normal([100.0, -50.0], [10.0, 2.0], size=(n, 2)).round(3)
    data = folder / "far.csv"
    np.savetxt(data, np.column_stack([X, X[:, 0] > 100]), delimiter=",", fmt=["%.3f", "%.3f", "%d"])
    model = folder / "far.safetensors"
    fit(load_csv(data), TrainConfig(hidden=(4,), epochs=2, validation_fraction=0.0)).save(model)
    return model, data


def one_line_error(result: subprocess.CompletedProcess[str], command: str = "train") -> str:
    """The single error line of a failed ``chainrule COMMAND`` (status 2, no traceback, nothing
    on stdout), checked as such."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"chainrule {command}: error:"), lines
    return lines[0]

"""Run the real ``chainrule`` command in a subprocess, as a user's shell would.

Importable from every test folder: pytest puts ``tests/`` (the folder of the root conftest) on
``sys.path``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


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

"""Run the real ``chainrule`` command in a subprocess, as a user's shell would."""

from __future__ import annotations

import subprocess
import sys


def chainrule(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m chainrule ARGS`` with no stdin; its exit status and text output."""
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )

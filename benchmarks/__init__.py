"""Benchmarks: chainrule against a plain numpy MLP, PyTorch and scikit-learn, side by side.

Run ``python -m benchmarks`` (``make bench``). Importing this package unsets
``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE`` for its own process and every process it starts,
before numpy is imported: on some machines these are set to values that slow a current OpenBLAS.
The report says which were unset and which BLAS kernel numpy then ran.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

UNSET_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
UNSET: dict[str, str] = {
    name: os.environ.pop(name) for name in UNSET_VARIABLES if name in os.environ
}
"""The variables this process found set and removed (name -> the value it had)."""


def json_from_fresh_interpreter(*args: str) -> dict[str, Any]:
    """Run ``python ARGS`` in a new interpreter (this environment, minus the variables above) and
    return the JSON object on the last line it prints."""
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, check=True, timeout=600
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result

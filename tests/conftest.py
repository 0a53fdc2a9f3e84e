"""Suite-wide configuration: every floating-point error raises, so silent overflow fails a test.

Underflow is an error too under ``np.seterr(all="raise")``; the engine's public entry points
handle the one legitimate case (``exp`` of a large negative number is exactly 0) themselves.
"""

from __future__ import annotations

import os

import numpy as np

np.seterr(all="raise")
os.environ.setdefault("MPLBACKEND", "Agg")

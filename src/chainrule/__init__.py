"""chainrule: multi-layer neural networks trained by back-propagation, in the lecture's notation.

The engine (:mod:`chainrule.engine`) needs only numpy. Optional parts (scikit-learn estimators,
ONNX export, Dask sweeps, the browser playground, plots) load their dependencies lazily.
"""

from __future__ import annotations

from chainrule.engine import (
    ACTIVATIONS,
    LOSSES,
    SGD,
    Adam,
    Dense,
    Momentum,
    Network,
    Optimizer,
    Trainer,
    gradcheck,
    trace,
    train,
)
from chainrule.errors import (
    ChainruleError,
    DataError,
    DivergenceError,
    ModelFileError,
    ValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "SGD",
    "Adam",
    "ChainruleError",
    "DataError",
    "Dense",
    "DivergenceError",
    "ModelFileError",
    "Momentum",
    "Network",
    "Optimizer",
    "Trainer",
    "ValidationError",
    "__version__",
    "gradcheck",
    "trace",
    "train",
]

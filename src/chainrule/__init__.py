"""chainrule: multi-layer neural networks trained by back-propagation, in the lecture's notation.

The engine (:mod:`chainrule.engine`) needs only numpy. Optional parts (scikit-learn estimators,
ONNX export, Dask sweeps, the browser playground, plots) load their dependencies lazily.
"""

from __future__ import annotations

import importlib
from typing import Any

from chainrule._version import __version__
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
from chainrule.serialization import load_model, save_model

_LAZY = {
    "MLPClassifier": "chainrule.estimators",
    "MLPRegressor": "chainrule.estimators",
    "from_sklearn": "chainrule.estimators",
    "export_onnx": "chainrule.serialization.onnx_export",
    "sweep": "chainrule.sweeps",
}
"""Public names whose modules import optional dependencies (scikit-learn, onnx, dask): loaded on
first use, so ``import chainrule`` needs only numpy."""


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'chainrule' has no attribute {name!r}")


def __dir__() -> list[str]:
    """The public names, lazy ones included, for ``dir()`` and tab completion (not the helpers
    this module imports, such as ``importlib``)."""
    return sorted(__all__)


__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "SGD",
    "Adam",
    "ChainruleError",
    "DataError",
    "Dense",
    "DivergenceError",
    "MLPClassifier",
    "MLPRegressor",
    "ModelFileError",
    "Momentum",
    "Network",
    "Optimizer",
    "Trainer",
    "ValidationError",
    "__version__",
    "export_onnx",
    "from_sklearn",
    "gradcheck",
    "load_model",
    "save_model",
    "sweep",
    "trace",
    "train",
]

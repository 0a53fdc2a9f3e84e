"""Conversion between fitted scikit-learn MLPs and chainrule's estimators, both ways.

scikit-learn keeps ``coefs_[l-1]`` of shape ``(n_in, n_out)`` and ``intercepts_[l-1]`` of shape
``(n_out,)``; the engine keeps the lecture's ``W^(l) = [coefs_[l-1].T | intercepts_[l-1]]`` of shape
``(n_out, n_in + 1)``. Converting copies the weights, so both models predict the same.
"""

from __future__ import annotations

import copy
import numbers
from typing import Any

import numpy as np
from sklearn import neural_network  # type: ignore[import-untyped, unused-ignore]
from sklearn.utils.validation import check_is_fitted  # type: ignore[import-untyped, unused-ignore]

from chainrule.engine.network import Network
from chainrule.errors import ValidationError
from chainrule.estimators._mlp import (
    _LOSSES,
    _MLP,
    HIDDEN_ACTIVATIONS,
    OUTPUT_ACTIVATIONS,
    MLPClassifier,
    MLPRegressor,
)

_FITTED = (
    "n_iter_",
    "t_",
    "n_layers_",
    "n_outputs_",
    "out_activation_",
    "loss_",
    "best_loss_",
    "validation_scores_",
    "best_validation_score_",
    "n_features_in_",
    "feature_names_in_",
    "classes_",
    "_label_binarizer",
)
"""Fitted attributes both libraries share (copied when present), besides the weights."""

_SKLEARN_ACTIVATIONS = {engine: name for name, engine in HIDDEN_ACTIVATIONS.items()}
"""The engine's hidden activation -> scikit-learn's name (plus 'leaky_relu')."""


def _copy_fitted(source: Any, target: Any) -> None:
    for name in _FITTED:
        if hasattr(source, name):
            setattr(target, name, copy.deepcopy(getattr(source, name)))
    target.loss_curve_ = list(getattr(source, "loss_curve_", None) or [])


def _widths(hidden_layer_sizes: Any) -> list[Any] | None:
    """``hidden_layer_sizes`` as a list of widths (an integer is one), ``None`` if it is neither."""
    if isinstance(hidden_layer_sizes, numbers.Integral):
        return [hidden_layer_sizes]
    try:
        return list(hidden_layer_sizes)
    except TypeError:
        return None


def from_sklearn(estimator: Any) -> MLPClassifier | MLPRegressor:
    """A chainrule estimator holding the weights of a fitted scikit-learn MLP.

    The parameters are copied (a model fitted with ``solver='lbfgs'`` comes over with
    ``solver='adam'``, used only if it is fitted again) and ``dtype`` is that of its ``coefs_``.

    Raises
    ------
    ValidationError
        If ``estimator`` is not a fitted ``sklearn.neural_network`` MLP with an output chainrule
        has (Poisson regression's exponential output is not).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.neural_network import MLPClassifier as SkMLP
    >>> X, y = load_iris(return_X_y=True)
    >>> sk = SkMLP((5,), max_iter=20, random_state=0).fit(X, y)  # doctest: +SKIP
    >>> bool((from_sklearn(sk).predict(X) == sk.predict(X)).all())  # doctest: +SKIP
    True
    """
    target: MLPClassifier | MLPRegressor
    if isinstance(estimator, neural_network.MLPClassifier):
        target = MLPClassifier()
    elif isinstance(estimator, neural_network.MLPRegressor):
        target = MLPRegressor()
    else:
        raise ValidationError(
            "from_sklearn needs a fitted sklearn.neural_network.MLPClassifier or MLPRegressor; "
            f"got {type(estimator).__name__}"
        )
    check_is_fitted(estimator)
    if estimator.out_activation_ not in OUTPUT_ACTIVATIONS:
        raise ValidationError(
            f"the scikit-learn model's output activation {estimator.out_activation_!r} has no "
            f"chainrule counterpart (chainrule has {', '.join(sorted(OUTPUT_ACTIVATIONS))})"
        )
    params = {
        name: value
        for name, value in estimator.get_params(deep=False).items()
        if name in target.get_params(deep=False)
    }
    if params["solver"] == "lbfgs":
        params["solver"] = "adam"
    dtype = np.dtype(estimator.coefs_[0].dtype).name
    target.set_params(**params, dtype=dtype if dtype in ("float32", "float64") else "float64")
    weights = [
        np.column_stack([coef.T, intercept])  # W^(l) = [coef.T | intercept]
        for coef, intercept in zip(estimator.coefs_, estimator.intercepts_, strict=True)
    ]
    n_hidden = len(weights) - 1
    activations = [HIDDEN_ACTIVATIONS[estimator.activation]] * n_hidden + [
        OUTPUT_ACTIVATIONS[estimator.out_activation_]
    ]
    target.out_activation_ = estimator.out_activation_
    target.network_ = Network.from_weights(
        weights, activations, dtype=target.dtype, loss=_LOSSES[estimator.out_activation_]
    )
    target.n_outputs_ = estimator.n_outputs_
    target._reset_training_state()
    _copy_fitted(estimator, target)
    return target


def to_sklearn(estimator: _MLP) -> Any:
    """A fitted ``sklearn.neural_network`` MLP with ``estimator``'s parameters and weights.

    Raises
    ------
    ValidationError
        If the hidden activation is 'leaky_relu', which scikit-learn lacks.
    """
    check_is_fitted(estimator)
    params = estimator.get_params(deep=False)
    del params["dtype"]
    # the fitted network's widths and activation: set_params(...) after fit does not change them
    widths = estimator.network_.sizes[1:-1]
    if _widths(params["hidden_layer_sizes"]) != widths:
        params["hidden_layer_sizes"] = tuple(widths)
    hidden = estimator.network_.activations[:-1]
    if hidden:
        params["activation"] = _SKLEARN_ACTIVATIONS[hidden[0]]
    if params["activation"] == "leaky_relu":
        raise ValidationError(
            "scikit-learn's MLP has no 'leaky_relu' activation (it has 'identity', 'logistic', "
            "'tanh', 'relu'); this model cannot be converted"
        )
    if params["solver"] == "momentum":
        params["solver"] = "sgd"  # scikit-learn's 'sgd' is SGD with momentum
    kind = (
        neural_network.MLPClassifier
        if isinstance(estimator, MLPClassifier)
        else neural_network.MLPRegressor
    )
    target = kind(**params)
    target.coefs_ = [np.array(c) for c in estimator.coefs_]
    target.intercepts_ = [np.array(b) for b in estimator.intercepts_]
    _copy_fitted(estimator, target)
    # what scikit-learn's partial_fit expects of a fitted model
    target._no_improvement_count = 0
    target._best_coefs = [c.copy() for c in target.coefs_]
    target._best_intercepts = [b.copy() for b in target.intercepts_]
    return target

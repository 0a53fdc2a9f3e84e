"""Weight initialisers: each returns a fresh ``W^(l)`` of shape ``(n_out, n_in + 1)``.

The last column of ``W^(l)`` multiplies the constant 1 appended to ``h^(l-1)`` (the lecture's
augmented input ``x = [x_1, ..., x_D, 1]``), so it is the bias; initialisers set it to zero.
Randomness is explicit: pass a seed or a ``np.random.Generator``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import DTypeLike, NDArray

from chainrule.errors import ValidationError

Seed = int | np.random.Generator | None
Initializer = Callable[[int, int, np.random.Generator, DTypeLike], NDArray[np.floating]]


def as_generator(seed: Seed) -> np.random.Generator:
    """Return ``seed`` if it is a Generator, else a new PCG64 Generator seeded with it."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | np.integer)):
        raise ValidationError(f"seed must be an int, a numpy Generator or None; got {seed!r}")
    if seed is not None and seed < 0:
        raise ValidationError(f"seed must be >= 0; got {seed}")
    return np.random.default_rng(seed)


def _uniform(
    limit: float, n_in: int, n_out: int, rng: np.random.Generator, dtype: DTypeLike
) -> NDArray[np.floating]:
    W = np.zeros((n_out, n_in + 1), dtype=dtype)
    # Draw in float64 then cast, so float32 and float64 nets from one seed hold the same values.
    W[:, :-1] = rng.uniform(-limit, limit, size=(n_out, n_in))
    return W


def glorot_uniform(
    n_in: int, n_out: int, rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> NDArray[np.floating]:
    """Glorot/Xavier: ``w ~ U(-a, a)``, ``a = sqrt(6 / (n_in + n_out))``; for sigmoid, tanh."""
    return _uniform(np.sqrt(6.0 / (n_in + n_out)), n_in, n_out, rng, dtype)


def he_uniform(
    n_in: int, n_out: int, rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> NDArray[np.floating]:
    """He: ``w ~ U(-a, a)``, ``a = sqrt(6 / n_in)``; keeps ReLU activations' variance steady."""
    return _uniform(np.sqrt(6.0 / n_in), n_in, n_out, rng, dtype)


def small_uniform(
    n_in: int, n_out: int, rng: np.random.Generator, dtype: DTypeLike = np.float32
) -> NDArray[np.floating]:
    """``w ~ U(-0.1, 0.1)``: the classic small random start."""
    return _uniform(0.1, n_in, n_out, rng, dtype)


INITIALIZERS: dict[str, Initializer] = {
    "glorot": glorot_uniform,
    "xavier": glorot_uniform,
    "he": he_uniform,
    "small": small_uniform,
}


def default_initializer(activation: str) -> str:
    """He for the ReLU family, Glorot otherwise."""
    return "he" if activation in ("relu", "leaky_relu") else "glorot"


def get_initializer(init: str | Initializer) -> Initializer:
    """Return the initialiser called ``init`` (or the callable itself)."""
    if callable(init):
        return init
    if init in INITIALIZERS:
        return INITIALIZERS[init]
    raise ValidationError(
        f"unknown initializer {init!r}; expected one of {', '.join(sorted(INITIALIZERS))}"
    )

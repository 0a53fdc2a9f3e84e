"""Activation functions g^(l) and their derivatives g'^(l), held together.

The lecture: a layer's activation is its excitation passed through a scalar nonlinearity,

    h_j^(l) = g^(l)(e_j^(l))                                     (activation)

and back-propagation needs its derivative,

    dL/de_j^(l) = dL/dh_j^(l) * g^(l)'(e_j^(l))                  (chain rule through g)

Each :class:`Activation` computes ``g`` and ``g'`` into caller-owned buffers (``out=``) so a
training step allocates nothing. ``g_prime`` receives ``h = g(e)`` as well as ``e`` because the
lecture's own formulas use it: sigma' = sigma (1 - sigma) and tanh' = 1 - tanh^2.

Softmax is not elementwise, so it has no elementwise ``g_prime``: its :meth:`Activation.chain`
applies the Jacobian, dL/de_j = h_j (dL/dh_j - sum_k dL/dh_k h_k).

Find activations by name in :data:`ACTIVATIONS` or with :func:`get_activation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chainrule.errors import GradientUndefinedError, ValidationError

Array = NDArray[np.floating]


class Activation:
    """A scalar nonlinearity ``g`` with its derivative ``g'``.

    Subclasses implement :meth:`g` and :meth:`g_prime`; :meth:`chain` multiplies by ``g'`` as the
    lecture's chain rule does. ``elementwise`` is False only for softmax.
    """

    name: str = ""
    elementwise: bool = True

    def g(self, e: Array, out: Array | None = None) -> Array:
        """Return ``h = g(e)``, written into ``out`` when given (``out`` may be ``e`` itself)."""
        raise NotImplementedError

    def g_prime(self, e: Array, h: Array, out: Array | None = None) -> Array:
        """Return ``g'(e)`` elementwise (``h`` is ``g(e)``, for formulas written in terms of it),
        written into ``out`` when given (``out`` may be ``e`` or ``h`` itself)."""
        raise NotImplementedError

    def chain(self, dL_dh: Array, e: Array, h: Array, out: Array, scratch: Array) -> Array:
        """Back-propagate through ``g``: ``dL/de = dL/dh * g'(e)``, into ``out``.

        ``g'(e)`` is computed into ``out`` itself, or into ``scratch`` (shaped like ``e``) when
        ``out`` is ``dL_dh``: one array fewer to pass through the cache.
        """
        g_prime = self.g_prime(e, h, out=scratch if out is dL_dh else out)
        return np.multiply(dL_dh, g_prime, out=out)  # dL/de = dL/dh * g'(e)

    def __repr__(self) -> str:
        return f"<activation {self.name}>"


class Step(Activation):
    """The McCulloch-Pitts unit step ``u(e) = 1 if e > 0 else 0``.

    Its derivative is zero almost everywhere (and undefined at 0), so gradient descent through a
    step unit learns nothing: :meth:`g_prime` raises :class:`GradientUndefinedError`.
    """

    name = "step"

    def g(self, e: Array, out: Array | None = None) -> Array:
        return np.greater(e, 0, out=out if out is not None else np.empty_like(e))

    def g_prime(self, e: Array, h: Array, out: Array | None = None) -> Array:
        raise GradientUndefinedError(
            "cannot back-propagate through the step activation: its derivative u'(e) is 0 "
            "everywhere except e = 0, where it is undefined, so every dL/dw would be 0. "
            "Use 'sigmoid' (a smooth step, sigma' = sigma(1 - sigma)) or 'tanh' to train; keep "
            "'step' for hand-wired McCulloch-Pitts networks."
        )


class Identity(Activation):
    """``g(e) = e`` (a linear output, for regression); ``g'(e) = 1``."""

    name = "identity"

    def g(self, e: Array, out: Array | None = None) -> Array:
        if out is None or out is e:
            return e
        np.copyto(out, e)
        return out

    def g_prime(self, e: Array, h: Array, out: Array | None = None) -> Array:
        if out is None:
            return np.ones_like(e)
        out.fill(1)
        return out

    def chain(self, dL_dh: Array, e: Array, h: Array, out: Array, scratch: Array) -> Array:
        # g'(e) = 1, so dL/de = dL/dh: copy instead of multiplying by ones.
        if out is not dL_dh:
            np.copyto(out, dL_dh)
        return out


class Sigmoid(Activation):
    """Logistic sigmoid ``sigma(e) = 1 / (1 + exp(-e))``; ``sigma' = sigma (1 - sigma)``.

    Computed as written, which keeps the full relative precision of tiny values far into the
    negative tail (``(1 + tanh(e / 2)) / 2`` would give exactly 0 below e = -37 in float64, -17
    in float32, and lose the gradient of a confidently wrong token with it). Below e = -88
    (float32) ``exp(-e)`` overflows to inf and ``1 / inf`` is 0, the answer to a rounding: that
    overflow is expected, so it is not an error.
    """

    name = "sigmoid"

    def g(self, e: Array, out: Array | None = None) -> Array:
        h = np.negative(e, out=out)
        with np.errstate(over="ignore"):
            np.exp(h, out=h)
        h += 1
        return np.reciprocal(h, out=h)  # 1 / (1 + exp(-e))

    def g_prime(self, e: Array, h: Array, out: Array | None = None) -> Array:
        if out is h:  # in place: 1 - h written over h would leave (1 - h)^2
            return np.multiply(h, 1 - h, out=h)
        d = np.subtract(1, h, out=out)
        d *= h  # sigma'(e) = sigma(e) (1 - sigma(e))
        return d


class Tanh(Activation):
    """Hyperbolic tangent; ``tanh'(e) = 1 - tanh(e)^2``."""

    name = "tanh"

    def g(self, e: Array, out: Array | None = None) -> Array:
        return np.tanh(e, out=out)

    def g_prime(self, e: Array, h: Array, out: Array | None = None) -> Array:
        d = np.multiply(h, h, out=out)
        np.subtract(1, d, out=d)  # tanh'(e) = 1 - tanh^2(e)
        return d


@lru_cache(maxsize=32)
def _zeros(n: int, dtype: np.dtype[Any]) -> Array:
    """A read-only vector of ``n`` zeros (cached per length and dtype)."""
    zeros = np.zeros(n, dtype=dtype)
    zeros.flags.writeable = False
    return zeros


def _zeros_along_memory(e: Array) -> Array:
    """Zeros that broadcast against ``e`` along its contiguous axis: a row for a row-major
    batch, a column for a column-major one (a layer's buffers), so numpy's loop over memory
    pairs two contiguous runs instead of a run and a repeated scalar."""
    if e.ndim != 2 or e.flags.c_contiguous:
        return _zeros(e.shape[-1], e.dtype)
    return _zeros(len(e), e.dtype)[:, None]


class ReLU(Activation):
    """Rectified linear unit ``max(0, e)``; ``ReLU'(e) = u(e)``, the unit step."""

    name = "relu"

    def g(self, e: Array, out: Array | None = None) -> Array:
        # max(e, 0) against zeros, not the scalar 0: numpy (2.4) runs maximum with a broadcast
        # scalar without SIMD, two to three times slower (128 x 256: 26 vs 12 us).
        return np.maximum(e, _zeros_along_memory(e), out=out)

    def g_prime(self, e: Array, h: Array, out: Array | None = None) -> Array:
        return np.greater(e, 0, out=out if out is not None else np.empty_like(e))  # u(e)


class LeakyReLU(Activation):
    """``max(e, slope * e)`` with a small ``slope`` (0.01): dead units still get a gradient."""

    name = "leaky_relu"

    def __init__(self, slope: float = 0.01) -> None:
        if not 0 <= slope < 1:
            raise ValidationError(f"leaky_relu slope must be in [0, 1); got {slope!r}")
        self.slope = slope

    def __repr__(self) -> str:
        return f"<activation {self.name} slope={self.slope:g}>"

    def g(self, e: Array, out: Array | None = None) -> Array:
        if out is e:  # in place: slope * e written over e would leave max(slope e, slope e)
            return np.multiply(e, self.slope, out=e, where=e < 0)
        h = np.multiply(e, self.slope, out=out)
        return np.maximum(e, h, out=h)

    def g_prime(self, e: Array, h: Array, out: Array | None = None) -> Array:
        d = np.greater(e, 0, out=out if out is not None else np.empty_like(e))
        d *= 1 - self.slope
        d += self.slope  # 1 where e > 0, slope elsewhere
        return d


class Softmax(Activation):
    """``h_j = exp(e_j) / sum_k exp(e_k)`` over each row; the output layer for classification.

    Stable: ``exp(e - max_k e_k)`` never overflows. Not elementwise, so back-propagation uses the
    Jacobian in :meth:`chain`; with cross-entropy the loss supplies ``dL/de`` directly
    (the lecture's ``softmax(e) - onehot(y)``) and this path is skipped.
    """

    name = "softmax"
    elementwise = False

    def g(self, e: Array, out: Array | None = None) -> Array:
        # ufunc reductions called directly: the ndarray methods add a Python layer per call
        h: Array = np.subtract(e, np.maximum.reduce(e, axis=-1, keepdims=True), out=out)
        np.exp(h, out=h)
        h /= np.add.reduce(h, axis=-1, keepdims=True)
        return h

    def g_prime(self, e: Array, h: Array, out: Array | None = None) -> Array:
        raise ValidationError(
            "softmax has no elementwise derivative: each h_j depends on every e_k; "
            "use Softmax.chain (the Jacobian-vector product) instead"
        )

    def chain(self, dL_dh: Array, e: Array, h: Array, out: Array, scratch: Array) -> Array:
        # dL/de_j = sum_k dL/dh_k dh_k/de_j = h_j (dL/dh_j - sum_k dL/dh_k h_k)
        np.multiply(dL_dh, h, out=scratch)
        weighted = scratch.sum(axis=-1, keepdims=True)
        d: Array = np.subtract(dL_dh, weighted, out=out)
        d *= h
        return d


ACTIVATIONS: dict[str, Activation] = {
    a.name: a for a in (Step(), Identity(), Sigmoid(), Tanh(), ReLU(), LeakyReLU(), Softmax())
}
"""The registry of activations by name."""


def _unlike_registered(activation: Activation, *, parameters: bool) -> str | None:
    """Why ``activation`` is not the registered activation its name stands for, or ``None``.

    Its class must be exactly the registered one's: a subclass (or another class) that reuses a
    registered name may compute anything under it. Its instance attributes must be the
    registered one's too (an instance given its own ``g`` is another function), and, with
    ``parameters``, hold the same values (``LeakyReLU(0.3)`` is not ``'leaky_relu'``).
    """
    registered = ACTIVATIONS.get(activation.name)
    if registered is None:
        return f"no activation of that name is registered ({', '.join(sorted(ACTIVATIONS))})"
    kind, expected = type(activation), type(registered)
    if kind is not expected:
        return (
            f"it is a {kind.__module__}.{kind.__qualname__}, not the registered "
            f"{expected.__module__}.{expected.__qualname__} that {activation.name!r} stands for"
        )
    if vars(activation).keys() != vars(registered).keys():
        added = sorted(vars(activation).keys() - vars(registered).keys())
        return f"its instance attribute(s) {', '.join(added)} replace the registered behaviour"
    if parameters and vars(activation) != vars(registered):
        return f"its parameters differ from those of the registered {registered!r}"
    return None


def names_of(
    activations: Sequence[Activation],
    *,
    parameters: bool = True,
    use: str = "a model file records activation names only, so this network cannot be saved",
) -> list[str]:
    """The registry names of ``activations``, for a file that records names only (a model file)
    or an exporter that knows the registered activations only (ONNX).

    Parameters
    ----------
    activations:
        One :class:`Activation` per layer ``1..L``.
    parameters:
        Whether parameters must equal the registered ones' too: a model file records the name
        alone, while an exporter that writes the parameters (a leaky ReLU's slope) passes False.
    use:
        What the names are for, ending the refusal's message.

    Raises
    ------
    ValidationError
        For an activation that is not exactly the registered one of its name: another class
        (a subclass named ``'relu'`` computing something else), attributes of its own, or, with
        ``parameters``, other parameter values (``LeakyReLU(0.3)`` is not ``'leaky_relu'``,
        whose slope is 0.01). Recorded by name, it would load or run as a different network.
    """
    names = []
    for l, activation in enumerate(activations, start=1):
        problem = _unlike_registered(activation, parameters=parameters)
        if problem is not None:
            raise ValidationError(
                f"layer {l}'s activation {activation!r} is not the registered "
                f"{activation.name!r}: {problem}; {use}. Use a registered activation (by name) "
                f"in layer {l}"
            )
        names.append(activation.name)
    return names


def get_activation(activation: str | Activation) -> Activation:
    """Return the activation called ``activation`` (or the object itself).

    Raises
    ------
    ValidationError
        For an unknown name, listing the known ones, or an :class:`Activation` class given for
        an instance (``LeakyReLU`` for ``LeakyReLU()``).
    """
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str) and activation in ACTIVATIONS:
        return ACTIVATIONS[activation]
    if isinstance(activation, type) and issubclass(activation, Activation):
        raise ValidationError(
            f"activation {activation.__name__} is a class; pass an instance, "
            f"{activation.__name__}(), or a name: {', '.join(sorted(ACTIVATIONS))}"
        )
    raise ValidationError(
        f"unknown activation {activation!r}; expected one of {', '.join(sorted(ACTIVATIONS))}"
    )

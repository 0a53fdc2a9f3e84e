"""Loss functions L, their value and the gradient that starts back-propagation.

Every loss is a mean over the batch of ``n`` tokens. Each offers

* ``value(h, y)``: the loss from the outputs ``h^(L)`` (logs clipped away from ``ln 0``);
* ``value_from_excitation(e, y)``: the same loss for the paired output activation, computed
  stably from ``e^(L)`` (log-sum-exp for cross-entropy, softplus for binary cross-entropy), the
  mean of ``token_losses(e, y)``, each token's own loss ``l_i`` (for weighted means);
* ``dL_dh(h, y, out)``: dL/dh^(L), the general start of the backward pass;
* ``dL_de(h, y, out)``: the fused shortcut for the output activation the loss is paired with, as
  the lecture derives it for softmax + cross-entropy::

      d(-ln h_y^(L)) / de_j^(L) = softmax(e^(L))_j - [j = y]

Targets ``y``: class indices ``(n,)`` for cross-entropy; 0/1 values ``(n, k)`` for binary
cross-entropy; real values ``(n, k)`` for mean squared error.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chainrule.errors import ValidationError

Array = NDArray[np.floating]


@lru_cache(maxsize=16)
def _rows(n: int) -> NDArray[np.intp]:
    """``[0, 1, ..., n - 1]`` (read-only, cached per batch size): the row of each token."""
    rows = np.arange(n)
    rows.flags.writeable = False
    return rows


@lru_cache(maxsize=4)
def _tiny(dtype: np.dtype[Any]) -> float:
    """The smallest normal number of ``dtype`` (``np.finfo`` is slow to call on every step)."""
    return float(np.finfo(dtype).tiny)


class Loss:
    """A loss ``L(h^(L), y)`` averaged over the batch."""

    name: str = ""
    pairs_with: str = ""
    """The output activation whose ``dL/de`` this loss can compute directly (``dL_de``)."""

    def value(self, h: Array, y: NDArray[Any]) -> float:
        """Return L, the mean loss over the batch, from the outputs ``h^(L)``."""
        raise NotImplementedError

    def token_losses(self, e: Array, y: NDArray[Any]) -> Array:
        """Each token's loss ``l_i``, shape ``(n,)``, from ``e^(L)`` when the output activation is
        ``pairs_with`` (stable); L is their mean."""
        raise NotImplementedError

    def value_from_excitation(self, e: Array, y: NDArray[Any]) -> float:
        """Return L from ``e^(L)`` when the output activation is ``pairs_with`` (stable)."""
        return float(np.mean(self.token_losses(e, y)))

    def value_at_output(self, e: Array, h: Array, y: NDArray[Any]) -> float:
        """Return L for the paired output activation given both ``e^(L)`` and ``h^(L) = g(e^(L))``.

        The same number as :meth:`value_from_excitation`; a loss may read it off ``h`` when that
        is exact and cheaper (cross-entropy does).
        """
        return self.value_from_excitation(e, y)

    def dL_dh(self, h: Array, y: NDArray[Any], out: Array) -> Array:
        """Return dL/dh^(L) (shape of ``h``) into ``out``."""
        raise NotImplementedError

    def dL_de(self, h: Array, y: NDArray[Any], out: Array) -> Array:
        """Return dL/de^(L) for the paired output activation (``pairs_with``), into ``out``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<loss {self.name}>"


class CrossEntropy(Loss):
    """``L = -ln h_y^(L)``, the negative log-probability of the true class (lecture).

    With a softmax output the value is ``logsumexp(e) - e_y`` (no ``ln 0``) and
    ``dL/de = (softmax(e) - onehot(y)) / n``.
    """

    name = "cross_entropy"
    pairs_with = "softmax"

    def value(self, h: Array, y: NDArray[Any]) -> float:
        h_y = h[np.arange(len(y)), y]
        return float(-np.mean(np.log(np.maximum(h_y, np.finfo(h.dtype).tiny))))  # -ln h_y

    def token_losses(self, e: Array, y: NDArray[Any]) -> Array:
        m = e.max(axis=1)
        # -ln softmax(e)_y = ln sum_k exp(e_k - m) + m - e_y
        log_sum = np.log(np.exp(e - m[:, None]).sum(axis=1))
        losses: Array = log_sum + m - e[_rows(len(y)), y]
        return losses

    def value_at_output(self, e: Array, h: Array, y: NDArray[Any]) -> float:
        # -ln h_y straight from the softmax already computed: as exact as the log-sum-exp while
        # every h_y is a normal float (loss per token below ~87 in float32), and a third of the
        # numpy calls, which is what a step of a small network costs. Below that, log-sum-exp.
        h_y = h[_rows(len(y)), y]
        if np.minimum.reduce(h_y) < _tiny(h.dtype):
            return self.value_from_excitation(e, y)
        return -float(np.add.reduce(np.log(h_y, out=h_y))) / len(y)  # mean of -ln h_y

    def dL_dh(self, h: Array, y: NDArray[Any], out: Array) -> Array:
        out.fill(0)
        rows = _rows(len(y))
        h_y = np.maximum(h[rows, y], np.finfo(h.dtype).tiny)
        out[rows, y] = -1.0 / (len(y) * h_y)  # d(-ln h_y)/dh_y = -1/h_y, mean over n
        return out

    def dL_de(self, h: Array, y: NDArray[Any], out: Array) -> Array:
        # (softmax(e) - onehot(y)) / n, as h / n - onehot(y) / n: two numpy calls, not three
        inverse_n = 1.0 / len(y)
        np.multiply(h, inverse_n, out=out)
        out[_rows(len(y)), y] -= inverse_n
        return out


class BinaryCrossEntropy(Loss):
    """``L = -[y ln h + (1 - y) ln(1 - h)]`` summed over outputs, mean over the batch.

    For a sigmoid output the value is ``softplus(e) - y e`` and ``dL/de = (h - y) / n``.
    """

    name = "binary_cross_entropy"
    pairs_with = "sigmoid"

    def value(self, h: Array, y: NDArray[Any]) -> float:
        tiny = np.finfo(h.dtype).tiny
        per_output = -(y * np.log(np.maximum(h, tiny)) + (1 - y) * np.log(np.maximum(1 - h, tiny)))
        return float(per_output.sum() / len(h))

    def token_losses(self, e: Array, y: NDArray[Any]) -> Array:
        # -y ln sigma(e) - (1-y) ln(1 - sigma(e)) = max(e, 0) - y e + ln(1 + exp(-|e|))
        per_output = np.maximum(e, 0) - y * e + np.log1p(np.exp(-np.abs(e)))
        losses: Array = per_output.sum(axis=1)
        return losses

    def dL_dh(self, h: Array, y: NDArray[Any], out: Array) -> Array:
        tiny = np.finfo(h.dtype).tiny
        np.copyto(out, (h - y) / np.maximum(h * (1 - h), tiny))
        out *= 1.0 / len(h)
        return out

    def dL_de(self, h: Array, y: NDArray[Any], out: Array) -> Array:
        np.subtract(h, y, out=out)  # sigma(e) - y
        out *= 1.0 / len(h)
        return out


class MeanSquaredError(Loss):
    """``L = mean over tokens and outputs of (h - y)^2`` (PyTorch's ``MSELoss``).

    ``dL/dh = 2 (h - y) / (n k)``; with an identity output ``dL/de = dL/dh``.
    """

    name = "mse"
    pairs_with = "identity"

    def value(self, h: Array, y: NDArray[Any]) -> float:
        diff = h - y
        return float(np.mean(diff * diff))

    def token_losses(self, e: Array, y: NDArray[Any]) -> Array:
        diff = e - y  # identity output: h = e
        losses: Array = np.mean(diff * diff, axis=1)
        return losses

    def dL_dh(self, h: Array, y: NDArray[Any], out: Array) -> Array:
        np.subtract(h, y, out=out)
        out *= 2.0 / h.size
        return out

    dL_de = dL_dh  # identity output: g'(e) = 1


LOSSES: dict[str, Loss] = {
    loss.name: loss for loss in (CrossEntropy(), BinaryCrossEntropy(), MeanSquaredError())
}
"""The registry of losses by name."""

_ALIASES = {
    "ce": "cross_entropy",
    "log_loss": "cross_entropy",
    "bce": "binary_cross_entropy",
    "squared_error": "mse",
}


def get_loss(loss: str | Loss) -> Loss:
    """Return the loss called ``loss`` (or the object itself).

    Raises
    ------
    ValidationError
        For an unknown name, listing the known ones.
    """
    if isinstance(loss, Loss):
        return loss
    if isinstance(loss, str):
        name = _ALIASES.get(loss, loss)
        if name in LOSSES:
            return LOSSES[name]
    raise ValidationError(f"unknown loss {loss!r}; expected one of {', '.join(sorted(LOSSES))}")


def default_loss(output_activation: str) -> str:
    """The loss that pairs with an output activation: softmax -> cross-entropy, and so on."""
    for loss in LOSSES.values():
        if loss.pairs_with == output_activation:
            return loss.name
    raise ValidationError(
        f"no default loss for output activation {output_activation!r}; "
        "use softmax (cross_entropy), sigmoid (binary_cross_entropy) or identity (mse), "
        "or pass loss= explicitly"
    )

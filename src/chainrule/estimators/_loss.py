"""The engine's losses, weighed and scaled the way scikit-learn's MLP weighs and scales them.

scikit-learn's MLP minimises, on a minibatch of tokens ``i`` with sample weights ``s_i``,

    L = sum_i s_i l_i / sum_i s_i  +  alpha / (2 sum_i s_i) ||W||^2

(the penalty is added by the estimator's step). :class:`SampleWeightedLoss` supplies the first
term to the engine's :meth:`~chainrule.engine.network.Network.back_propagate`: it asks the engine's
own loss for ``dL/de^(L)`` (a mean over the batch, ``1/n`` per token) and multiplies token ``i``'s
row by ``s_i n / sum_i s_i``, which turns the mean into the weighted mean. Back-propagation below
the output is the engine's, untouched.

Regression: the engine's ``mse`` is ``mean over tokens and outputs of (h - y)^2``; scikit-learn
reports half of it (``loss_curve_``) and descends the gradient of half the squared error summed
over the ``k`` outputs, ``dL/de = (h - y) / n``. So values are scaled by 1/2 and ``dL/de`` by
``k / 2`` (both agree with scikit-learn; with one output, that is exactly ``L = mse / 2``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from chainrule.engine.losses import Loss

Array = NDArray[np.floating]


class SampleWeightedLoss(Loss):
    """An engine loss with per-token weights and scikit-learn's scale, for one output layer.

    Parameters
    ----------
    base:
        The engine loss paired with the output activation (cross-entropy with softmax, binary
        cross-entropy with sigmoid, mse with identity).
    n_outputs:
        ``k``, the number of output units (for the ``k / 2`` regression gradient scale).
    """

    def __init__(self, base: Loss, n_outputs: int) -> None:
        self.base = base
        self.name = base.name
        self.pairs_with = base.pairs_with
        half = base.name == "mse"
        self.value_scale = 0.5 if half else 1.0
        self.gradient_scale = n_outputs / 2 if half else 1.0
        self.sample_weight: Array | None = None
        self._row_scale: Array | None = None

    def weigh(self, sample_weight: Array | None) -> None:
        """Use ``sample_weight`` (shape ``(n,)``, sum > 0) for the next batch; ``None``: equal.

        Equal weights need no weighing, so they take the engine's unweighted path exactly.
        """
        if sample_weight is not None and bool(np.all(sample_weight == sample_weight[0])):
            sample_weight = None
        self.sample_weight = sample_weight
        if sample_weight is None:
            self._row_scale = None
        else:
            # s_i n / sum_i s_i: turns the engine's mean over tokens into the weighted mean
            scale = sample_weight * (len(sample_weight) / float(sample_weight.sum()))
            self._row_scale = scale[:, None]

    def value_from_excitation(self, e: Array, y: NDArray[Any]) -> float:
        """``sum_i s_i l_i / sum_i s_i`` (times 1/2 for mse); unweighted, the engine's own loss.

        A weighted batch takes each token's ``l_i`` from the engine loss's ``token_losses`` (a
        loop over distinct weights, one engine call each, was 30 times slower than an unweighted
        fit where the weights were all distinct).
        """
        w = self.sample_weight
        if w is None:
            return self.value_scale * self.base.value_from_excitation(e, y)
        kept = w > 0  # a zero-weight token counts for nothing, even where its loss overflows
        weighted = float(np.dot(w[kept], self.base.token_losses(e[kept], y[kept])))
        return self.value_scale * weighted / float(w.sum())

    def dL_de(self, h: Array, y: NDArray[Any], out: Array) -> Array:
        """The engine's ``dL/de^(L)`` with row ``i`` scaled by ``s_i n / sum_i s_i``."""
        self.base.dL_de(h, y, out)
        if self._row_scale is not None:
            out *= self._row_scale
        if self.gradient_scale != 1.0:
            out *= self.gradient_scale
        return out

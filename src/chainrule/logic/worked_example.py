"""The lecture's forward-propagation example, with weights we chose, as runnable code.

The lecture ("Example"): a scalar input ``x``, target ``Y in {0, 1}``::

    h_1^(0) = x,  h_2^(0) = 1                               (the augmented input)
    e_j^(1) = sum_k w_jk^(1) h_k^(0),   h_j^(1) = ReLU(e_j^(1))
    e_j^(2) = sum_k w_jk^(2) h_k^(1),   h_j^(2) = softmax(e_j^(2))
    h^(2) = (P(Y = 0 | x), P(Y = 1 | x))

The lecture leaves the weights open; we use small round numbers (columns: inputs, then bias)::

    W^(1) = [[ 1, 0],        h_1^(1) = ReLU(x)        fires for x > 0
             [-1, 1]]        h_2^(1) = ReLU(1 - x)    fires for x < 1

    W^(2) = [[-1,  1, 0],    e_0^(2) = h_2^(1) - h_1^(1)   (class Y = 0)
             [ 1, -1, 0]]    e_1^(2) = h_1^(1) - h_2^(1)   (class Y = 1)

(the softmax layer's neurons count from 0, like the classes and the lecture's
``h_0^(2) = P(Y = 0 | x)``; the hidden ones from 1, as :mod:`chainrule.engine.explain` numbers them)

so ``P(Y = 1 | x) = sigma(2 (h_1 - h_2))`` grows with ``x``. The token is ``x = 1.5`` with target
``y = 0``, a token this network gets wrong (``P(Y = 0 | x) = 1 / (1 + e^3) ~ 0.047``), so one step
of gradient descent with ``eta = 0.1`` has something to correct. At ``x = 1.5`` the second hidden
unit is off (``e_2^(1) = -0.5``), which shows ``ReLU' = u`` stopping the gradient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chainrule.engine.network import Network
from chainrule.engine.trace import Trace, trace

W1 = ((1.0, 0.0), (-1.0, 1.0))
"""``W^(1)``: two ReLU units, ``ReLU(x)`` and ``ReLU(1 - x)``."""

W2 = ((-1.0, 1.0, 0.0), (1.0, -1.0, 0.0))
"""``W^(2)``: softmax excitations ``e_0 = h_2 - h_1`` (Y = 0) and ``e_1 = h_1 - h_2`` (Y = 1)."""


@dataclass(frozen=True)
class WorkedExample:
    """The network, the token and the step size of the worked example."""

    network: Network
    x: float
    y: int
    learning_rate: float

    def trace(self) -> Trace:
        """Every ``e``, ``h``, ``dL/dh``, ``dL/de``, ``dL/dW`` and the updated weights."""
        return trace(self.network, [[self.x]], [self.y], learning_rate=self.learning_rate)


def worked_example() -> WorkedExample:
    """The lecture's scalar-input ReLU + softmax network with the weights documented above.

    >>> example = worked_example()
    >>> example.network.predict_proba([[example.x]]).round(4).tolist()
    [[0.0474, 0.9526]]
    """
    net = Network.from_weights([W1, W2], activations=["relu", "softmax"], dtype=np.float64)
    return WorkedExample(network=net, x=1.5, y=0, learning_rate=0.1)

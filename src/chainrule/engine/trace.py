"""Record every number of one forward and backward pass, in the lecture's notation.

:func:`trace` runs the network's real :meth:`~chainrule.engine.network.Network.propagate` and
:meth:`~chainrule.engine.network.Network.back_propagate` on a copy of the network and copies out
what each layer kept: ``h^(l-1)``, ``e^(l)``, ``h^(l)``, ``dL/dh^(l)``, ``dL/de^(l)`` and
``dL/dW^(l)``, then applies one step of the lecture's gradient descent
``w <- w - eta dL/dw`` with the real :class:`~chainrule.engine.optimizers.SGD`. Nothing here
recomputes the mathematics a second way: :mod:`chainrule.engine.explain` only formats it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from chainrule.engine.activations import Activation
from chainrule.engine.losses import Loss
from chainrule.engine.network import Network
from chainrule.engine.optimizers import SGD

Array = NDArray[np.floating]


@dataclass(frozen=True)
class LayerTrace:
    """Layer ``l`` of a traced pass. Arrays have one row per token.

    ``dL_dh``, ``dL_de``, ``dL_dW`` and ``W_updated`` are ``None`` for a forward-only trace.
    """

    l: int
    activation: str
    W: Array
    h_prev: Array
    e: Array
    h: Array
    dL_dh: Array | None
    dL_de: Array | None
    dL_dW: Array | None
    W_updated: Array | None
    activation_function: Activation | None = None
    """The layer's :class:`~chainrule.engine.activations.Activation` itself, with its
    parameters: the name alone would give :mod:`~chainrule.engine.explain` the registry's
    ``leaky_relu`` (slope 0.01) for a ``LeakyReLU(0.3)``, and nothing for an activation of the
    user's own."""


@dataclass(frozen=True)
class Trace:
    """One pass through ``L`` layers for a token (or a small batch) ``x`` with target ``y``."""

    x: Array
    y: NDArray[Any] | None
    loss_name: str | None
    loss: float | None
    learning_rate: float
    layers: list[LayerTrace]
    loss_function: Loss | None = None
    """The :class:`~chainrule.engine.losses.Loss` itself: a loss of the user's own is in no
    registry, so :mod:`~chainrule.engine.explain` cannot look it up by :attr:`loss_name`."""

    @property
    def output(self) -> Array:
        """``h^(L)``: for a softmax output, ``P(Y = k | x)``."""
        return self.layers[-1].h

    def __str__(self) -> str:
        """The lecture's table of every number (``print(trace(...))``), as ``chainrule explain``
        prints it: :func:`chainrule.engine.explain.to_text`."""
        from chainrule.engine.explain import to_text  # explain formats traces: imported late

        return to_text(self)

    def _repr_markdown_(self) -> str:
        """Jupyter shows a trace as the lecture's equations with the numbers filled in:
        :func:`chainrule.engine.explain.to_markdown`."""
        from chainrule.engine.explain import to_markdown

        return to_markdown(self)


def trace(
    net: Network,
    x: ArrayLike,
    y: ArrayLike | None = None,
    *,
    loss: str | Loss | None = None,
    learning_rate: float = 0.1,
) -> Trace:
    """Trace the forward pass, and with a target ``y`` the backward pass and one SGD step.

    ``net`` is not modified: the pass runs on a copy. Without ``y`` only the forward pass is
    recorded (for hand-wired step networks, say).
    """
    copy = net.copy()
    h0 = copy.check_inputs(x, name="x")
    with np.errstate(under="ignore"):
        copy.propagate(h0)
        forward_kept = [(layer.h_prev, layer.e, layer.h) for layer in copy.layers]
        loss_fn = targets = value = None
        if y is not None:
            loss_fn = copy._resolve_loss(loss)
            targets = copy.check_targets(y, len(h0), loss_fn)
            output = copy.layers[-1]
            assert output.e is not None and output.h is not None
            value = copy.output_loss(targets, loss_fn)
            copy.back_propagate(targets, loss_fn)
            if output.dL_dh is None:  # the loss supplied dL/de directly; record dL/dh too
                output.dL_dh = loss_fn.dL_dh(output.h, targets, out=np.empty_like(output.h))
    updated: list[Array | None] = [None] * len(copy.layers)
    if y is not None:
        new_weights = [W.copy(order="K") for W in copy.weights]
        SGD(learning_rate).step(new_weights, copy.gradients)  # w <- w - eta dL/dw
        updated = list(new_weights)
    layers = []
    for l, (layer, (h_prev, e, h), W_new) in enumerate(
        zip(copy.layers, forward_kept, updated, strict=True), start=1
    ):
        backward = y is not None
        layers.append(
            LayerTrace(
                l=l,
                activation=layer.activation.name,
                W=layer.W.copy(order="K"),
                h_prev=np.array(h_prev, copy=True),
                e=np.array(e, copy=True),
                h=np.array(h, copy=True),
                dL_dh=np.array(layer.dL_dh, copy=True)
                if backward and layer.dL_dh is not None
                else None,
                dL_de=np.array(layer.dL_de, copy=True) if backward else None,
                dL_dW=layer.dL_dW.copy(order="K") if backward else None,
                W_updated=W_new,
                activation_function=layer.activation,
            )
        )
    return Trace(
        x=h0.copy(),
        y=None if targets is None else np.array(targets, copy=True),
        loss_name=None if loss_fn is None else loss_fn.name,
        loss=value,
        learning_rate=float(learning_rate),
        layers=layers,
        loss_function=loss_fn,
    )

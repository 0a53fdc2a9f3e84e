"""Gradient descent on a network: minibatches, epochs and the divergence guard.

One step is the lecture's recipe: forward-propagate a batch, back-propagate from the loss to get
every ``dL/dw_jk^(l)``, then let the optimizer update the weights (for :class:`SGD`,
``w <- w - eta dL/dw``). Batch size 1 is per-token descent, ``batch_size=None`` full-batch
descent, anything between minibatch descent. Each epoch visits every token once, in an order
drawn from the trainer's seeded generator.

Divergence guard: after every step the loss must be finite, and after every epoch the weights.
If not, the weights from the end of the last good epoch are restored and
:class:`~chainrule.errors.DivergenceError` says what happened and what to change.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from chainrule.engine.init import Seed, as_generator
from chainrule.engine.losses import Loss
from chainrule.engine.network import Network
from chainrule.engine.optimizers import SGD, Optimizer
from chainrule.errors import DivergenceError, ValidationError

Array = NDArray[np.floating]


def check_batch_size(batch_size: int | None, n: int) -> int:
    """``None`` means the whole data set; otherwise an int >= 1, clipped to ``n``."""
    if batch_size is None:
        return n
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int | np.integer)
        or batch_size < 1
    ):
        raise ValidationError(f"batch_size must be an integer >= 1 or None; got {batch_size!r}")
    return min(int(batch_size), n)


def check_epochs(epochs: int) -> int:
    """Epoch counts are integers >= 1."""
    if isinstance(epochs, bool) or not isinstance(epochs, int | np.integer) or epochs < 1:
        raise ValidationError(f"epochs must be an integer >= 1; got {epochs!r}")
    return int(epochs)


class Trainer:
    """Trains ``net`` on ``(X, y)`` one minibatch or one epoch at a time.

    The data are checked once, here; steps then run on views of a shuffled copy, without
    allocating. ``trainer.epoch`` counts completed epochs, ``trainer.steps`` gradient steps.

    Parameters
    ----------
    net:
        The network; its weights are updated in place.
    X, y:
        Inputs ``(n, n_inputs)`` and targets (class indices for cross-entropy).
    loss:
        Defaults to the network's loss.
    optimizer:
        Defaults to the lecture's plain gradient descent, ``SGD(learning_rate)``.
    batch_size:
        1 (per token), ``None`` (full batch) or anything between.
    shuffle, seed:
        Visit tokens in a new seeded random order each epoch (or in data order).
    """

    def __init__(
        self,
        net: Network,
        X: ArrayLike,
        y: ArrayLike,
        *,
        loss: str | Loss | None = None,
        optimizer: Optimizer | None = None,
        learning_rate: float = 0.1,
        batch_size: int | None = 32,
        shuffle: bool = True,
        seed: Seed = None,
    ) -> None:
        self.net = net
        self.loss = net._resolve_loss(loss)
        self.X = net.check_inputs(X)
        self.y = net.check_targets(y, len(self.X), self.loss)
        self.optimizer = optimizer if optimizer is not None else SGD(learning_rate)
        self.batch_size = check_batch_size(batch_size, len(self.X))
        self.shuffle = bool(shuffle)
        self.rng = as_generator(seed)
        self.epoch = 0
        self.steps = 0
        self.history: list[float] = []
        self._order: NDArray[np.intp] = np.arange(len(self.X))
        self._X_epoch = np.empty_like(self.X)
        self._y_epoch = np.empty_like(self.y)
        self._position = len(self.X)  # no epoch in progress
        self._epoch_loss_sum = 0.0
        self._good_weights = [W.copy() for W in net.weights]

    # -- one step ------------------------------------------------------------------------

    def step(self, X_batch: Array, y_batch: NDArray[Any]) -> float:
        """One gradient step on an already checked batch; returns its loss (before the update)."""
        net = self.net
        net.propagate(X_batch)
        loss = net.output_loss(y_batch, self.loss)
        if not math.isfinite(loss):
            return loss  # the caller restores the last good weights; nothing is updated
        net.back_propagate(y_batch, self.loss)
        self.optimizer.step(net.weights, net.gradients)  # w <- w - eta dL/dw (for SGD)
        self.steps += 1
        return loss

    # -- minibatches and epochs ------------------------------------------------------------

    @property
    def in_epoch(self) -> bool:
        """True between the first and the last minibatch of an epoch."""
        return self._position < len(self.X)

    def _start_epoch(self) -> None:
        n = len(self.X)
        self._order = self.rng.permutation(n) if self.shuffle else np.arange(n)
        np.take(self.X, self._order, axis=0, out=self._X_epoch)
        np.take(self.y, self._order, axis=0, out=self._y_epoch)
        self._position = 0
        self._epoch_loss_sum = 0.0

    def step_minibatch(self) -> float:
        """Take the next minibatch of the current epoch (starting one if needed); return its loss.

        When the minibatch completes the epoch, the epoch's mean loss is appended to
        :attr:`history`. Raises :class:`DivergenceError` (weights restored) on a non-finite loss.
        """
        if not self.in_epoch:
            self._start_epoch()
        start = self._position
        stop = min(start + self.batch_size, len(self.X))
        try:
            with np.errstate(under="ignore"):
                loss = self.step(self._X_epoch[start:stop], self._y_epoch[start:stop])
        except FloatingPointError as err:  # np.seterr(all="raise") turns overflow into this
            self._diverged(f"a floating-point error ({err})")
        if not math.isfinite(loss):
            self._diverged(f"the loss became {loss}")
        self._position = stop
        self._epoch_loss_sum += loss * (stop - start)
        if stop == len(self.X):
            self._finish_epoch()
        return loss

    def _finish_epoch(self) -> None:
        if not all(np.isfinite(W).all() for W in self.net.weights):
            self._diverged("the weights became non-finite")
        self.epoch += 1
        self.history.append(self._epoch_loss_sum / len(self.X))
        for good, W in zip(self._good_weights, self.net.weights, strict=True):
            np.copyto(good, W)

    def _diverged(self, what: str) -> None:
        self.net.set_weights(self._good_weights)
        self._position = len(self.X)
        restored = (
            f"the weights from the end of epoch {self.epoch} (loss {self.history[-1]:.4g})"
            if self.history
            else "the initial weights"
        )
        raise DivergenceError(
            f"training diverged in epoch {self.epoch + 1}, step {self.steps + 1}: {what}. "
            f"Restored {restored}. Lower the learning rate (now "
            f"{self.optimizer.learning_rate:g}, try {self.optimizer.learning_rate / 10:g}) "
            "or standardise the inputs.",
            epoch=self.epoch,
            step=self.steps,
            history=self.history,
        )

    def run_epoch(self) -> float:
        """Finish the current epoch (or run a whole new one); return its mean loss."""
        self.step_minibatch()
        while self.in_epoch:
            self.step_minibatch()
        return self.history[-1]

    def fit(self, epochs: int, on_epoch: Callable[[Trainer], None] | None = None) -> list[float]:
        """Run ``epochs`` epochs; return the mean training loss of each (the lecture's curve)."""
        start = len(self.history)
        for _ in range(check_epochs(epochs)):
            self.run_epoch()
            if on_epoch is not None:
                on_epoch(self)
        return self.history[start:]


def train(
    net: Network,
    X: ArrayLike,
    y: ArrayLike,
    *,
    loss: str | Loss | None = None,
    learning_rate: float = 0.1,
    epochs: int = 100,
    batch_size: int | None = 32,
    shuffle: bool = True,
    seed: Seed = None,
    optimizer: Optimizer | None = None,
) -> list[float]:
    """Train ``net`` in place by gradient descent and return the mean loss of each epoch.

    ``batch_size=1`` is per-token descent, ``None`` full-batch descent. The optimizer defaults to
    the lecture's ``w <- w - eta dL/dw`` with ``eta = learning_rate``.

    Raises
    ------
    DivergenceError
        When the loss or the weights become non-finite; the weights from the end of the last good
        epoch are restored first.

    Examples
    --------
    >>> from chainrule.engine.network import Network
    >>> net = Network([2, 4, 2], ["tanh", "softmax"], seed=0, dtype="float64")
    >>> losses = train(net, [[0, 0], [0, 1], [1, 0], [1, 1]], [0, 1, 1, 0],
    ...                learning_rate=0.5, epochs=300, batch_size=None, seed=0)
    >>> losses[-1] < losses[0]
    True
    """
    trainer = Trainer(
        net,
        X,
        y,
        loss=loss,
        optimizer=optimizer,
        learning_rate=learning_rate,
        batch_size=batch_size,
        shuffle=shuffle,
        seed=seed,
    )
    return trainer.fit(epochs)

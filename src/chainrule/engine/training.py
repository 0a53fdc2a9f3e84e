"""Gradient descent on a network: minibatches, epochs, validation, callbacks and safe stopping.

One step is the lecture's recipe: forward-propagate a batch, back-propagate from the loss to get
every ``dL/dw_jk^(l)``, then let the optimizer update the weights (for :class:`SGD`,
``w <- w - eta dL/dw``). Batch size 1 is per-token descent, ``batch_size=None`` full-batch
descent, anything between minibatch descent. Each epoch visits every token once, in an order
drawn from the trainer's seeded generator.

Around the steps the loop adds what practice needs, none of it inside the optimizer:

- a learning-rate *schedule* ``eta_t`` (see :mod:`chainrule.engine.schedules`) and
  reduce-on-plateau, set on the optimizer before each step;
- per-epoch scores in a :class:`History`: the training loss and accuracy (or R^2 and RMSE)
  accumulated over the epoch's minibatches, as the weights moved, and the same scores on
  validation data with the weights at the end of the epoch;
- callbacks (:mod:`chainrule.engine.callbacks`): progress, early stopping, checkpoints, ...;
- Ctrl-C: the current minibatch finishes, the epoch ends there and the weights are kept
  (``history.stopped == "interrupted"``);
- the divergence guard: after every step the loss must be finite, and after every epoch the
  weights. If not, the weights from the end of the last good epoch are restored and
  :class:`~chainrule.errors.DivergenceError` says what happened and what to change.

:meth:`Trainer.state_dict` captures everything the next epoch depends on (optimizer state, the
generator's ``bit_generator.state``, schedule and callback state), so a run resumed from it at an
epoch boundary ends with bit-identical weights to one never interrupted.
"""

from __future__ import annotations

import math
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from chainrule.engine.callbacks import Callback
from chainrule.engine.init import Seed, as_generator
from chainrule.engine.layers import with_constant_1
from chainrule.engine.losses import Loss
from chainrule.engine.metrics import accuracy, r2_from_sums, r2_score, rmse
from chainrule.engine.network import Network
from chainrule.engine.optimizers import SGD, Optimizer
from chainrule.engine.schedules import ReduceOnPlateau, Schedule, schedule_from_dict
from chainrule.errors import DivergenceError, ValidationError

Array = NDArray[np.floating]

STOP_REASONS = ("running", "completed", "early_stopping", "interrupted", "diverged", "callback")
_CALLBACK_STOPS = ("callback", "early_stopping")
"""The reasons :meth:`Trainer.stop` takes; the loop itself ends runs for the others."""


def step_errstate() -> np.errstate:
    """The ``np.errstate`` of the gradient steps: overflow or NaN is divergence (raised, then
    handled by restoring the last good weights) rather than a warning; ``exp(-large) -> 0`` is
    exact."""
    return np.errstate(under="ignore", over="raise", invalid="raise")


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


def task_of(loss: Loss) -> str:
    """``"regression"`` for the squared error, ``"classification"`` for the cross-entropies."""
    return "regression" if loss.name == "mse" else "classification"


@dataclass
class History:
    """What training did, epoch by epoch; ``to_dict()`` is plain JSON.

    Attributes
    ----------
    task:
        ``"classification"`` (records hold ``accuracy``) or ``"regression"`` (``r2``, ``rmse``).
    epochs:
        One record per completed epoch: ``epoch`` (1-based), ``loss`` and the task's scores on
        the training data (means over the epoch's minibatches), ``val_loss`` and ``val_*``
        scores when there is validation data, and the ``learning_rate`` of the epoch's last step.
    stopped:
        Why the last :meth:`Trainer.fit` ended: ``completed``, ``early_stopping``,
        ``interrupted`` (Ctrl-C), ``diverged`` or ``callback`` (``running`` while it runs).
    best_epoch:
        The epoch whose weights early stopping restored, else ``None``.
    message:
        A human-readable note on how training ended (the divergence advice, ...).
    """

    task: str = "classification"
    epochs: list[dict[str, float]] = field(default_factory=list)
    stopped: str = "running"
    best_epoch: int | None = None
    message: str = ""

    def series(self, key: str) -> list[float]:
        """The values of ``key`` (e.g. ``"val_loss"``) over the epochs that recorded it."""
        return [record[key] for record in self.epochs if key in record]

    @property
    def last(self) -> dict[str, float]:
        """The last epoch's record (empty before the first epoch ends)."""
        return dict(self.epochs[-1]) if self.epochs else {}

    @property
    def kept(self) -> dict[str, float]:
        """The record of the weights training kept: the best epoch's after early stopping
        restored it, else the last epoch's (empty before the first epoch ends)."""
        for record in self.epochs:
            if self.best_epoch is not None and record["epoch"] == self.best_epoch:
                return dict(record)
        return self.last

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return asdict(self)

    @classmethod
    def from_dict(cls, state: dict[str, Any]) -> History:
        """Rebuild from :meth:`to_dict`."""
        return cls(
            task=str(state["task"]),
            epochs=[{str(k): float(v) for k, v in r.items()} for r in state["epochs"]],
            stopped=str(state["stopped"]),
            best_epoch=None if state["best_epoch"] is None else int(state["best_epoch"]),
            message=str(state["message"]),
        )


class _Interrupt:
    """Turns Ctrl-C into a flag checked between minibatches, so a step is never cut in half.

    Only the main thread can own the SIGINT handler; elsewhere (or if someone installed their own
    handler) KeyboardInterrupt arrives as usual and is caught at the loop level. A second Ctrl-C
    while the first is pending raises at once.
    """

    def __init__(self) -> None:
        self.requested = False

    def _handle(self, signum: int, frame: object) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    @contextmanager
    def installed(self) -> Iterator[_Interrupt]:
        own = (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        )
        if own:
            signal.signal(signal.SIGINT, self._handle)
        try:
            yield self
        finally:
            if own:
                signal.signal(signal.SIGINT, signal.default_int_handler)


class Trainer:
    """Trains ``net`` on ``(X, y)`` one minibatch, one epoch or many epochs at a time.

    The data are checked once, here, and copied once, with the constant input 1 of the first
    layer's bias; each step gathers its shuffled minibatch into a reused buffer, without
    allocating. ``trainer.epoch`` counts completed epochs, ``trainer.steps`` gradient steps,
    ``trainer.history`` holds each epoch's mean training loss (the lecture's curve) and
    ``trainer.record`` the full :class:`History`.

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
    learning_rate:
        ``eta`` for the default optimizer; otherwise the optimizer's own rate is ``eta_0``.
    batch_size:
        1 (per token), ``None`` (full batch) or anything between.
    shuffle, seed:
        Visit tokens in a new seeded random order each epoch (or in data order). ``shuffle``
        set during an epoch takes effect at the next one.
    validation_data:
        ``(X_val, y_val)`` scored at the end of every epoch (``val_loss``, ``val_accuracy`` ...).
    schedule:
        A learning-rate schedule ``eta_t = schedule(t, eta_0)``; ``None`` keeps the rate fixed.
    plateau:
        A :class:`ReduceOnPlateau` fed ``val_loss`` (or ``loss``) after each epoch.
    callbacks:
        :class:`~chainrule.engine.callbacks.Callback` objects, called in order.
    keep_gradients:
        Leave each step's ``dL/dW`` in ``net.gradients``. Without it, plain :class:`SGD` (no
        weight decay) on a network with a layer of at least
        :data:`~chainrule.engine.layers.FOLD_MIN_WEIGHTS` weights lets each layer take
        ``w <- w - eta dL/dw`` itself, the large ones inside the products that compute
        ``dL/dw`` (:meth:`Dense.backward <chainrule.engine.layers.Dense.backward>` with
        ``learning_rate``): the same step up to rounding, without a second pass over their
        weights, and no gradients kept.
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
        validation_data: tuple[ArrayLike, ArrayLike] | None = None,
        schedule: Schedule | None = None,
        plateau: ReduceOnPlateau | None = None,
        callbacks: Sequence[Callback] = (),
        keep_gradients: bool = False,
    ) -> None:
        self.net = net
        self.loss = net._resolve_loss(loss)
        X_checked = net.check_inputs(X)
        # The data carry the constant 1 as their last column, so the first layer's bias enters
        # its matrix product like every other weight (see Dense). ``X`` is a view of it: the
        # trainer holds one copy of the data, whatever dtype or layout it was given in.
        self._X_augmented = with_constant_1(
            np.empty((len(X_checked), X_checked.shape[1] + 1), X_checked.dtype)
        )
        self._X_augmented[:, :-1] = X_checked
        self.X = self._X_augmented[:, :-1]
        self.y = net.check_targets(y, len(self.X), self.loss)
        self.optimizer = optimizer if optimizer is not None else SGD(learning_rate)
        self.learning_rate = self.optimizer.learning_rate  # eta_0 of the schedule
        self._batch_size = check_batch_size(batch_size, len(self.X))
        self.shuffle = bool(shuffle)
        self.rng = as_generator(seed)
        self.validation: tuple[Array, NDArray[Any]] | None = None
        if validation_data is not None:
            X_val = net.check_inputs(validation_data[0], "X_val")
            self.validation = (X_val, net.check_targets(validation_data[1], len(X_val), self.loss))
        self.schedule = schedule
        self.plateau = plateau
        self.callbacks = list(callbacks)
        # Plain SGD steps inside the dL/dW products where that pays: in a network with a layer
        # large enough (see Dense.backward). Otherwise one update of the whole weight vector
        # beats one per layer.
        self._fold_steps = not keep_gradients and any(layer.folds_descent for layer in net.layers)
        keys = [cb.key for cb in self.callbacks if cb.key is not None]
        if len(keys) != len(set(keys)):
            raise ValidationError(f"two callbacks share a checkpoint key: {keys}")
        self.task = task_of(self.loss)
        self._score_batch = self._scorer()  # chosen once: the task does not change
        self.epoch = 0
        self.steps = 0
        self.epochs_planned = 0
        self.history: list[float] = []
        self.record = History(task=self.task)
        self.stop_reason: str | None = None
        self._stop_message = ""  # why, in words, from Trainer.stop
        self._order: NDArray[np.intp] = np.arange(len(self.X))
        self._shuffled = False  # whether _order is a permutation: shuffle as the epoch began
        # Each minibatch's rows [x, 1], gathered in the epoch's order into this reused buffer
        self._X_batch = self._X_augmented[:0].copy()
        self._y_epoch = np.empty_like(self.y)
        self._position = len(self.X)  # no epoch in progress
        self._abandoned_epoch = False  # Ctrl-C dropped an unfinished epoch: no exact resume
        # The last good epoch's weights (in W's layout: a fast copyto), and what the optimizer
        # had learnt by then (momentum, Adam's moments), the step count (schedules follow it) and
        # the shuffling generator: a divergence restores them all, so that training on continues
        # as if the diverging epoch had never started.
        self._good_weights = [W.copy(order="K") for W in net.weights]
        self._keep_as_good()
        # Sums over the epoch's minibatches: loss * batch size, correct answers or squared errors.
        self._epoch_loss_sum = 0.0
        self._epoch_hits = 0.0
        self._predicted = np.zeros(len(self.X), dtype=np.intp)  # class of each token this epoch
        self._epoch_sq_err = np.zeros(self.y.shape[1] if self.y.ndim == 2 else 1)
        if self.task == "regression":
            # SS_tot = sum_i (y_i - mean y)^2 in float64, as r2_score computes it: centred in
            # float32, a target far from 0 (y ~ 1e4 +- 0.01) would lose most of its digits.
            y64 = self.y.astype(np.float64)
            self._ss_tot = np.sum((y64 - y64.mean(axis=0)) ** 2, axis=0)

    # -- one step ------------------------------------------------------------------------

    def step(self, X_batch: Array, y_batch: NDArray[Any], *, augmented: bool = False) -> float:
        """One gradient step on an already checked batch; returns its loss (before the update).

        ``augmented``: ``X_batch`` carries the constant 1 as its last column (see
        :meth:`Network.propagate`).
        """
        net = self.net
        net.propagate(X_batch, augmented=augmented)
        loss = net.output_loss(y_batch, self.loss)
        if not math.isfinite(loss):
            return loss  # the caller restores the last good weights; nothing is updated
        eta = self.optimizer.plain_rate() if self._fold_steps else None
        if eta is None:
            net.back_propagate(y_batch, self.loss)
            # w <- w - eta dL/dw (for SGD), for all the layers' weights at once
            self.optimizer.step([net.weight_vector], [net.gradient_vector])
        else:
            # plain SGD: each layer takes w <- w - eta dL/dw itself (see Dense.backward)
            net.back_propagate(y_batch, self.loss, learning_rate=eta)
            self.optimizer.stepped([net.weight_vector])
        self.steps += 1
        return loss

    def _scorer(self) -> Callable[[Array, int, int], None]:
        """The method that scores a batch for the epoch's record, called as
        ``score(h, start, stop)`` with ``h^(L)`` of the epoch's tokens ``start:stop``."""
        if self.task == "regression":
            return self._add_squared_errors
        if self.loss.name == "cross_entropy":
            return self._keep_predicted_classes
        return self._count_binary_hits

    def _add_squared_errors(self, h: Array, start: int, stop: int) -> None:
        diff = h - self._y_epoch[start:stop]
        self._epoch_sq_err += np.sum(diff.astype(np.float64) ** 2, axis=0)

    def _keep_predicted_classes(self, h: Array, start: int, stop: int) -> None:
        # One numpy call per step; the epoch's end compares all predictions with y at once.
        h.argmax(axis=1, out=self._predicted[start:stop])

    def _count_binary_hits(self, h: Array, start: int, stop: int) -> None:
        # binary cross-entropy: every output unit is a yes/no decision
        y_batch = self._y_epoch[start:stop]
        self._epoch_hits += float(np.mean((h > 0.5) == (y_batch > 0.5), axis=1).sum())

    # -- minibatches and epochs ------------------------------------------------------------

    @property
    def batch_size(self) -> int:
        """Tokens per minibatch (``None`` at construction is the whole data set).

        May change between steps, even within an epoch (the next minibatch takes the new size);
        checked like the constructor's argument (unchecked, 0 and -1 ended in numpy's
        "zero-size array" error, -1 after a step on the wrong tokens, and 2.5 failed to slice).
        """
        return self._batch_size

    @batch_size.setter
    def batch_size(self, batch_size: int | None) -> None:
        self._batch_size = check_batch_size(batch_size, len(self.X))

    @property
    def in_epoch(self) -> bool:
        """True between the first and the last minibatch of an epoch."""
        return self._position < len(self.X)

    @property
    def epoch_fraction(self) -> float:
        """The share of the current epoch's tokens already visited (0 between epochs)."""
        return self._position / len(self.X) if self.in_epoch else 0.0

    def _start_epoch(self) -> None:
        n = len(self.X)
        # The epoch keeps the order it began with: X and y of each minibatch are both taken
        # from it, whatever shuffle is set to in the meantime.
        self._shuffled = self.shuffle
        self._order = self.rng.permutation(n) if self._shuffled else np.arange(n)
        np.take(self.y, self._order, axis=0, out=self._y_epoch)
        self._position = 0
        self._epoch_loss_sum = 0.0
        self._epoch_hits = 0.0
        self._epoch_sq_err[:] = 0.0

    def _set_learning_rate(self) -> None:
        """``eta = scale * eta_t``: the schedule at this step, times the plateau's reduction."""
        if self.schedule is None and self.plateau is None:
            return  # a fixed rate: leave the optimizer's as it is
        eta_t = (
            self.learning_rate
            if self.schedule is None
            else self.schedule(self.steps, self.learning_rate)
        )
        if not eta_t >= 0 or not math.isfinite(eta_t):  # a schedule of one's own, say
            source = (
                "the trainer's learning_rate is"
                if self.schedule is None
                else f"the schedule {self.schedule!r} gave the learning rate"
            )
            raise ValidationError(
                f"{source} {eta_t!r} at step {self.steps}; a rate must be a finite number >= 0 "
                "(0: a cosine's end)"
            )
        self.optimizer.learning_rate = eta_t * (1.0 if self.plateau is None else self.plateau.scale)

    def step_minibatch(self) -> float:
        """Take the next minibatch of the current epoch (starting one if needed); return its loss.

        When the minibatch completes the epoch, the epoch's record is made (validation scored,
        callbacks called) and its mean loss appended to :attr:`history`. Raises
        :class:`DivergenceError` (weights restored) on a non-finite loss.
        """
        with step_errstate():
            loss = self._next_minibatch()
        for callback in self.callbacks:
            callback.on_batch_end(self, loss)
        if not self.in_epoch:
            self._finish_epoch()
        return loss

    def _next_minibatch(self) -> float:
        """The gradient step of :meth:`step_minibatch`, without its errstate, callbacks and
        epoch's end: run under :func:`step_errstate`, which the caller enters."""
        n = len(self.X)
        if self._position >= n:
            self._start_epoch()
        start = self._position
        stop = min(start + self._batch_size, n)
        y_batch = self._y_epoch[start:stop]
        self._set_learning_rate()
        try:
            loss = self.step(self._gather(start, stop), y_batch, augmented=True)
            if math.isfinite(loss):
                h = self.net.layers[-1].h
                assert h is not None
                self._score_batch(h, start, stop)  # h^(L) from before this step's update
        except FloatingPointError as err:  # errstate(over="raise") turns overflow into this
            self._diverged(f"a floating-point error ({err})")
        if not math.isfinite(loss):
            self._diverged(f"the loss became {loss}")
        self._position = stop
        self._epoch_loss_sum += loss * (stop - start)
        return loss

    def _gather(self, start: int, stop: int) -> Array:
        """The epoch's tokens ``start:stop`` with their constant 1: copied, in the shuffled
        order, into the reused minibatch buffer (contiguous, so its matrix products need no copy
        of their own), or, without shuffling, a view of the data."""
        if not self._shuffled:
            return self._X_augmented[start:stop]
        if len(self._X_batch) < stop - start:  # a first or larger batch size
            self._X_batch = np.empty((stop - start, self._X_augmented.shape[1]), self.X.dtype)
        X_batch = self._X_batch[: stop - start]
        # mode="clip": the indices are a permutation, so numpy's bounds check (and the whole
        # copy it buffers the output in to make it) is work for nothing. The method, not
        # np.take: a microsecond less per call, a twentieth of a small network's step.
        return self._X_augmented.take(self._order[start:stop], axis=0, out=X_batch, mode="clip")

    def _finish_current_epoch(self, interrupt: _Interrupt | None = None) -> None:
        """Step to the end of the current epoch (or through a new one) and make its record.

        The same steps as calling :meth:`step_minibatch` until the epoch ends, but with one
        ``np.errstate`` for the whole epoch rather than one per step. Callbacks with an
        ``on_batch_end`` of their own keep the per-step path, so that they run outside the
        steps' errstate as they do after :meth:`step_minibatch`. ``interrupt`` (Ctrl-C) is
        checked before every step.
        """
        if any(type(cb).on_batch_end is not Callback.on_batch_end for cb in self.callbacks):
            while True:
                if interrupt is not None and interrupt.requested:
                    raise KeyboardInterrupt
                self.step_minibatch()
                if not self.in_epoch:
                    return
        n = len(self.X)
        with step_errstate():
            while True:
                if interrupt is not None and interrupt.requested:
                    raise KeyboardInterrupt
                self._next_minibatch()
                if self._position == n:
                    break
        self._finish_epoch()

    def _finish_epoch(self) -> None:
        self._check_weights()
        n = len(self.X)
        record: dict[str, float] = {
            "epoch": float(self.epoch + 1),
            "loss": self._epoch_loss_sum / n,
        }
        if self.task == "regression":
            record["r2"] = r2_from_sums(self._epoch_sq_err, self._ss_tot)
            record["rmse"] = math.sqrt(float(self._epoch_sq_err.sum()) / self.y.size)
        else:
            if self.loss.name == "cross_entropy":  # the predictions kept step by step
                self._epoch_hits = float(np.count_nonzero(self._predicted == self._y_epoch))
            record["accuracy"] = self._epoch_hits / n
        if self.validation is not None:
            try:
                record.update(self.evaluate(*self.validation, prefix="val_"))
            except FloatingPointError as err:
                self._diverged(f"a floating-point error on the validation data ({err})")
            if not math.isfinite(record["val_loss"]):
                self._diverged(f"the validation loss became {record['val_loss']}")
        self.epoch += 1
        self._abandoned_epoch = False
        self.history.append(record["loss"])
        self._keep_as_good()
        record["learning_rate"] = self.optimizer.learning_rate
        self.record.epochs.append(record)
        if self.plateau is not None:
            self.plateau.update(record.get("val_loss", record["loss"]))
        for callback in self.callbacks:
            callback.on_epoch_end(self, record)

    def evaluate(self, X: Array, y: NDArray[Any], *, prefix: str = "") -> dict[str, float]:
        """Loss and scores of the current weights on checked data ``(X, y)``, keys prefixed.

        Raises ``FloatingPointError`` on overflow (the weights have grown out of range).
        """
        with np.errstate(under="ignore", over="raise", invalid="raise"):
            h = self.net.propagate(X)
            scores = {"loss": self.net.output_loss(y, self.loss)}
        if self.task == "regression":
            scores["r2"] = r2_score(y, h)
            scores["rmse"] = rmse(y, h)
        elif self.loss.name == "cross_entropy":
            scores["accuracy"] = accuracy(y, np.argmax(h, axis=1))
        else:
            scores["accuracy"] = float(np.mean((h > 0.5) == (y > 0.5)))
        return {prefix + key: value for key, value in scores.items()}

    def _keep_as_good(self) -> None:
        """Remember the weights, the optimizer's state, the step count and the generator's state
        as the last good ones."""
        for good, W in zip(self._good_weights, self.net.weights, strict=True):
            np.copyto(good, W)
        self._good_optimizer = self.optimizer.state_dict()
        self._good_steps = self.steps
        self._good_rng = self.rng.bit_generator.state

    def _diverged(self, what: str, step: int | None = None) -> None:
        """Restore the last good state and raise; ``step`` (1-based) is where it happened, by
        default the step under way."""
        step = self.steps + 1 if step is None else step
        restored = (
            f"the weights from the end of epoch {self.epoch} (loss {self.history[-1]:.4g})"
            if self.history
            else "the initial weights"
        )
        error = DivergenceError(
            f"training diverged in epoch {self.epoch + 1}, step {step}: {what}. "
            f"Restored {restored} and the optimizer's state. Lower the learning rate (now "
            f"{self.optimizer.learning_rate:g}, try {self.optimizer.learning_rate / 10:g}) "
            "or standardise the inputs.",
            epoch=self.epoch,
            step=step - 1,
            history=self.history,
            cause=what,
        )
        self.net.set_weights(self._good_weights)
        self.optimizer.load_state_dict(self._good_optimizer)
        self.steps = self._good_steps
        self.rng.bit_generator.state = self._good_rng
        self._position = len(self.X)
        raise error

    def run_epoch(self) -> float:
        """Finish the current epoch (or run a whole new one); return its mean loss."""
        self._finish_current_epoch()
        return self.history[-1]

    def stop(self, reason: str = "callback", message: str = "") -> None:
        """Ask :meth:`fit` to end after the current epoch (for callbacks, e.g. early stopping).

        ``reason`` is what ``record.stopped`` will say, ``"callback"`` or ``"early_stopping"``
        (the loop sets the others itself); ``message`` says why in words, for
        ``record.message``: ``trainer.stop(message="validation accuracy reached 0.95")``.
        """
        if reason not in _CALLBACK_STOPS:
            raise ValidationError(
                f"stop reason must be {' or '.join(map(repr, _CALLBACK_STOPS))} (what "
                f"record.stopped will say); got {reason!r}. Say why in words with message=..."
            )
        self.stop_reason = reason
        self._stop_message = str(message)

    def fit(self, epochs: int, on_epoch: Callable[[Trainer], None] | None = None) -> list[float]:
        """Run up to ``epochs`` more epochs; return the mean training loss of each.

        Ends early when a callback calls :meth:`stop` (early stopping) or on Ctrl-C: the current
        minibatch completes, the unfinished epoch is dropped from the history and the weights are
        kept. ``record.stopped`` says which. Callbacks get ``on_train_begin`` and
        ``on_train_end`` (also when training diverges, before the error propagates).

        Raises
        ------
        DivergenceError
            When the loss or the weights become non-finite (last good weights restored).
        """
        start = len(self.history)
        self.epochs_planned = self.epoch + check_epochs(epochs)
        if not self.in_epoch:
            # The last good state is now's: the same weights as the last epoch's end, but with
            # what the caller has changed since (a learning rate set by hand), which a
            # divergence must neither undo nor misreport.
            self._keep_as_good()
        self.stop_reason = None
        self.record.stopped = "running"
        self.record.message = ""
        interrupt = _Interrupt()
        with interrupt.installed():
            try:
                for callback in self.callbacks:
                    callback.on_train_begin(self)
                try:
                    while self.epoch < self.epochs_planned and self.stop_reason is None:
                        self._finish_current_epoch(interrupt)
                        if on_epoch is not None:
                            on_epoch(self)
                except KeyboardInterrupt:
                    self._check_weights()  # Ctrl-C keeps the weights: only finite ones
                    raise
            except KeyboardInterrupt:
                self._abandoned_epoch = self.in_epoch
                self._position = len(self.X)  # drop the unfinished epoch, keep the weights
                self.record.stopped = "interrupted"
                self.record.message = (
                    f"interrupted after {self.epoch} complete epochs ({self.steps} steps); "
                    "kept the current weights"
                )
            except DivergenceError as err:
                self.record.stopped = "diverged"
                self.record.message = str(err)
                for callback in self.callbacks:
                    callback.on_train_end(self)
                raise
            else:
                self.record.stopped = self.stop_reason or "completed"
                if self.stop_reason is not None:
                    self.record.message = self._stop_message
            for callback in self.callbacks:
                callback.on_train_end(self)
        return self.history[start:]

    def _check_weights(self) -> None:
        """Raise :class:`DivergenceError` (last good state restored) when the weights are no
        longer finite: at an epoch's end, and when Ctrl-C stops an epoch, which would keep them.

        A step folded into BLAS's products (plain SGD on a large layer) raises no floating-point
        error: the weights it overflowed are found by the next step's products, or here, which
        names the last step taken.
        """
        if not np.isfinite(self.net.weight_vector).all():  # every layer at once
            self._diverged("the weights became non-finite", step=self.steps)

    # -- checkpoints -------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything the next epoch depends on, at an epoch boundary.

        JSON-ready values plus lists of arrays: ``weights`` are those at the end of the last
        epoch (early stopping may since have put other weights in the network), then optimizer
        and callback state; the generator's ``bit_generator.state`` makes the next epoch's
        shuffle the one an uninterrupted run draws.

        Raises
        ------
        ValidationError
            In the middle of an epoch, or after Ctrl-C dropped one (a checkpoint there could not
            resume bit-identically).
        """
        if self.in_epoch or self._abandoned_epoch:
            raise ValidationError(
                f"cannot checkpoint in the middle of epoch {self.epoch + 1}; "
                "checkpoint between epochs"
            )
        return {
            "weights": [W.copy() for W in self._good_weights],
            "epoch": self.epoch,
            "steps": self.steps,
            "rng": self.rng.bit_generator.state,
            "learning_rate": self.learning_rate,
            "batch_size": self.batch_size,
            "shuffle": self.shuffle,
            "history": list(self.history),
            "record": self.record.to_dict(),
            "optimizer": self.optimizer.state_dict(),
            "schedule": None if self.schedule is None else self.schedule.to_dict(),
            "plateau": None if self.plateau is None else self.plateau.state_dict(),
            "callbacks": {cb.key: cb.state_dict() for cb in self.callbacks if cb.key is not None},
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict`: weights, optimizer, generator, schedule, callbacks.

        Raises
        ------
        ValidationError
            If the weights' shapes, the optimizer, schedule or callbacks differ from those the
            state was saved with.
        """
        self._check_optimizer_state(state["optimizer"])
        self.net.set_weights(state["weights"])
        self.optimizer.load_state_dict(state["optimizer"])
        bit_generator = self.rng.bit_generator
        if state["rng"].get("bit_generator") != type(bit_generator).__name__:
            raise ValidationError(
                f"the saved random state is for {state['rng'].get('bit_generator')}, "
                f"not {type(bit_generator).__name__}"
            )
        bit_generator.state = state["rng"]
        self.epoch = int(state["epoch"])
        self.steps = int(state["steps"])
        self.learning_rate = float(state["learning_rate"])
        self.batch_size = int(state["batch_size"])
        self.shuffle = bool(state["shuffle"])
        self.history = [float(v) for v in state["history"]]
        self.record = History.from_dict(state["record"])
        self.schedule = None if state["schedule"] is None else schedule_from_dict(state["schedule"])
        if (state["plateau"] is None) != (self.plateau is None):
            raise ValidationError("reduce-on-plateau must be used both before and after resuming")
        if self.plateau is not None:
            self.plateau.load_state_dict(state["plateau"])
        saved = state["callbacks"]
        mine = {cb.key: cb for cb in self.callbacks if cb.key is not None}
        if set(saved) != set(mine):
            raise ValidationError(
                f"the checkpoint has state for callbacks {sorted(saved)}, this trainer has "
                f"{sorted(mine)}"
            )
        for key, callback in mine.items():
            callback.load_state_dict(saved[key])
        self._position = len(self.X)
        self._abandoned_epoch = False
        self._keep_as_good()

    def _check_optimizer_state(self, state: dict[str, Any]) -> None:
        """The saved optimizer's arrays (momentum's velocity, Adam's m and v) must fit the
        network: one array shaped like :attr:`Network.weight_vector`, which :meth:`step` updates.
        Checked before anything is loaded."""
        expected = self.net.weight_vector.shape
        for name, value in state.items():
            if not isinstance(value, list):
                continue
            shapes = [np.shape(a) for a in value]
            if shapes and shapes != [expected]:
                raise ValidationError(
                    f"the optimizer state {name!r} does not fit this network: expected one "
                    f"array of {expected[0]} weights, got arrays of shapes {shapes}"
                )


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

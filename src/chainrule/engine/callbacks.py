"""Callbacks: code the training loop calls around batches and epochs.

A callback subclasses :class:`Callback` and overrides what it needs. It may read anything on the
trainer, and may end training after the current epoch with ``trainer.stop(message="why")``
(``record.stopped`` then says ``"callback"``, ``record.message`` why). A callback
with state that a resumed run needs (early stopping's best weights, ...) sets :attr:`Callback.key`
and implements ``state_dict``/``load_state_dict``; the trainer's checkpoint state carries it.

Here: :class:`ProgressLog` (one line per epoch), :class:`EarlyStopping` (patience, ``min_delta``,
best weights restored) and :class:`HistoryRecorder` (the history as JSON after every epoch,
written atomically). Checkpoint files are written by
:class:`chainrule.serialization.checkpoint.CheckpointCallback`, outside the engine.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TextIO

import numpy as np
from numpy.typing import NDArray

from chainrule._atomic import atomic_path, check_output_path
from chainrule.engine.schedules import positive_number, whole_number
from chainrule.errors import ValidationError

if TYPE_CHECKING:
    from chainrule.engine.training import Trainer

__all__ = ["Callback", "EarlyStopping", "HistoryRecorder", "ProgressLog", "format_record"]


class Callback:
    """Base class; every hook does nothing."""

    key: ClassVar[str | None] = None
    """Name of this callback's state in checkpoints; ``None`` for a stateless callback."""

    def on_train_begin(self, trainer: Trainer) -> None:
        """Called when :meth:`Trainer.fit` starts."""

    def on_batch_end(self, trainer: Trainer, loss: float) -> None:
        """Called after every gradient step with the minibatch's loss (before the update)."""

    def on_epoch_end(self, trainer: Trainer, record: dict[str, float]) -> None:
        """Called when an epoch completes, with its record (see :class:`History`)."""

    def on_train_end(self, trainer: Trainer) -> None:
        """Called when :meth:`Trainer.fit` ends, however it ends (``trainer.record.stopped``)."""

    def state_dict(self) -> dict[str, Any]:
        """JSON-ready values and lists of arrays that a resumed run needs."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""


def _direction(monitor: str) -> str:
    """``"max"`` for a score that grows as the network improves (``accuracy``, ``val_r2``),
    ``"min"`` for the others (losses, ``rmse``, and ``"auto"``, which is a loss)."""
    return "max" if monitor.endswith(("accuracy", "r2")) else "min"


def format_record(record: dict[str, float]) -> str:
    """``loss 0.1234  accuracy 0.9500  val_loss ...``: a record's scores on one line."""
    shown = (k for k in record if k not in ("epoch", "learning_rate"))
    return "  ".join(f"{key} {record[key]:.4f}" for key in shown)


class ProgressLog(Callback):
    """Prints one line per ``every`` epochs: ``epoch 3/30  loss 0.1234  accuracy 0.9500 ...``."""

    def __init__(self, stream: TextIO | None = None, every: int = 1) -> None:
        self.stream = stream
        self.every = whole_number("every", every)  # np.int64 too, as patience takes it

    def on_epoch_end(self, trainer: Trainer, record: dict[str, float]) -> None:
        if trainer.epoch % self.every == 0 or trainer.epoch == trainer.epochs_planned:
            stream = self.stream if self.stream is not None else sys.stderr
            print(
                f"epoch {trainer.epoch}/{trainer.epochs_planned}  {format_record(record)}",
                file=stream,
                flush=True,
            )


class EarlyStopping(Callback):
    """Stop when the monitored score has not improved for ``patience`` epochs; keep the best.

    An epoch improves when its ``monitor`` value is below ``best - min_delta`` (above
    ``best + min_delta`` for a score to maximise). The weights of the best epoch are copied then,
    and restored when training ends (after stopping early or after the last epoch), unless it
    ended by Ctrl-C or divergence, whose own rules keep other weights.

    Parameters
    ----------
    monitor:
        A record key; ``"auto"`` is ``val_loss`` with validation data, else ``loss``.
    patience:
        Epochs without improvement tolerated; stop at the ``patience``-th.
    min_delta:
        The smallest change that counts as an improvement.
    restore_best:
        Put the best epoch's weights back when training ends.
    mode:
        ``"min"`` (losses, ``rmse``) or ``"max"`` (``accuracy``, ``r2``); ``"auto"`` maximises
        the scores that grow as the network improves (keys ending in ``accuracy`` or ``r2``)
        and minimises the others, as Keras' ``EarlyStopping(mode="auto")`` does. Minimised, an
        accuracy would count each fall as progress and restore the worst epoch.

    >>> EarlyStopping(monitor="val_accuracy").mode
    'max'
    """

    key: ClassVar[str | None] = "early_stopping"

    def __init__(
        self,
        monitor: str = "auto",
        patience: int = 10,
        min_delta: float = 0.0,
        *,
        restore_best: bool = True,
        mode: str = "auto",
    ) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise ValidationError(
                f"monitor must be a record key such as 'val_loss' or 'accuracy', or 'auto'; "
                f"got {monitor!r}"
            )
        if mode not in ("auto", "min", "max"):
            raise ValidationError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}")
        self.monitor = monitor
        self.mode = mode if mode != "auto" else _direction(monitor)
        # numpy scalars are numbers too (a patience computed as np.int64, say)
        self.patience = whole_number("patience", patience)
        self.min_delta = positive_number("min_delta", min_delta, allow_zero=True)
        self.restore_best = bool(restore_best)
        self.best = self._worst
        self.best_epoch: int | None = None
        self.wait = 0
        self.best_weights: list[NDArray[np.floating]] = []

    @property
    def _worst(self) -> float:
        """The starting ``best``, which any first score improves on."""
        return -math.inf if self.mode == "max" else math.inf

    def _improves(self, value: float) -> bool:
        """Whether ``value`` beats :attr:`best` by more than ``min_delta``."""
        if self.mode == "max":
            return value > self.best + self.min_delta
        return value < self.best - self.min_delta

    def _key(self, trainer: Trainer) -> str:
        if self.monitor != "auto":
            return self.monitor
        return "val_loss" if trainer.validation is not None else "loss"

    def on_train_begin(self, trainer: Trainer) -> None:
        key = self._key(trainer)
        if key.startswith("val_") and trainer.validation is None:
            raise ValidationError(
                f"early stopping monitors {key!r} but there is no validation data"
            )

    def on_epoch_end(self, trainer: Trainer, record: dict[str, float]) -> None:
        key = self._key(trainer)
        if key not in record:
            raise ValidationError(f"early stopping monitors {key!r}; records have {sorted(record)}")
        value = record[key]
        if self._improves(value):
            self.best, self.best_epoch, self.wait = value, trainer.epoch, 0
            self.best_weights = [W.copy(order="K") for W in trainer.net.weights]  # fast copy
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.stop("early_stopping")

    def on_train_end(self, trainer: Trainer) -> None:
        if (
            self.restore_best
            and self.best_weights
            and trainer.record.stopped in ("completed", "early_stopping")
        ):
            trainer.net.set_weights(self.best_weights)
            trainer.record.best_epoch = self.best_epoch
            trainer.record.message = (
                f"restored the weights of epoch {self.best_epoch} "
                f"({self._key(trainer)} {self.best:.4g})"
            )

    def state_dict(self) -> dict[str, Any]:
        return {
            "best": None if math.isinf(self.best) else self.best,
            "best_epoch": self.best_epoch,
            "wait": self.wait,
            "best_weights": [W.copy() for W in self.best_weights],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best = self._worst if state["best"] is None else float(state["best"])
        self.best_epoch = None if state["best_epoch"] is None else int(state["best_epoch"])
        self.wait = int(state["wait"])
        self.best_weights = [np.array(W, copy=True) for W in state["best_weights"]]


class HistoryRecorder(Callback):
    """Keeps the run's :class:`History`; with ``path``, writes it as JSON after every epoch.

    The file is replaced atomically (temporary file + rename), so a reader never sees half of it.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else Path(path)
        self.history: dict[str, Any] = {}

    def on_train_begin(self, trainer: Trainer) -> None:
        """Refuse a path no file can be written at (a folder, a missing folder) before the first
        epoch, rather than after it, with the epoch's work lost to an ``OSError``."""
        check_output_path(self.path, "HistoryRecorder path")

    def _save(self, trainer: Trainer) -> None:
        self.history = trainer.record.to_dict()
        if self.path is None:
            return
        text = json.dumps(self.history, indent=1, allow_nan=False)
        with atomic_path(self.path) as tmp:
            tmp.write_text(text, encoding="utf-8")

    def on_epoch_end(self, trainer: Trainer, record: dict[str, float]) -> None:
        self._save(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        self._save(trainer)

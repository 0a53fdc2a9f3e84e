"""Training checkpoints: a model file with ``kind="checkpoint"`` that a run resumes from.

A checkpoint is written by :func:`~chainrule.serialization.model_file.save_model`: the weights as
usual, the trainer's :meth:`~chainrule.engine.training.Trainer.state_dict` in the ``training``
field (epoch, step count, the generator's ``bit_generator.state``, schedule and plateau state,
history, optimizer hyper-parameters) and every array of that state (momentum velocity, Adam's
``m`` and ``v``, early stopping's best weights) as an extra tensor named after its place in the
state, e.g. ``state.optimizer.m.0``; in the JSON the array is replaced by
``{"tensor": "state.optimizer.m.0"}``. Arrays keep their dtype, so a float32 run resumes
bit-identically.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule.engine.activations import names_of
from chainrule.engine.callbacks import Callback
from chainrule.engine.training import Trainer
from chainrule.errors import ModelFileError, ValidationError
from chainrule.serialization.model_file import ClassLabel, ModelFile, load_model, save_model

__all__ = ["CheckpointCallback", "load_checkpoint", "restore_trainer", "save_checkpoint"]

_PREFIX = "state"
_REF = "tensor"


def _flatten(value: Any, name: str, tensors: dict[str, npt.NDArray[Any]]) -> Any:
    """Move every array in ``value`` into ``tensors``, leaving ``{"tensor": name}`` behind.

    Each array keeps its shape: ``np.ascontiguousarray`` alone makes a 0-d array 1-d (a callback's
    ``np.array(0.5)`` would resume as ``array([0.5])``)."""
    if isinstance(value, np.ndarray):
        tensors[name] = np.ascontiguousarray(value).reshape(value.shape)
        return {_REF: name}
    if isinstance(value, Mapping):
        return {str(k): _flatten(v, f"{name}.{k}", tensors) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_flatten(v, f"{name}.{i}", tensors) for i, v in enumerate(value)]
    return value


def _unflatten(value: Any, tensors: Mapping[str, npt.NDArray[Any]]) -> Any:
    if isinstance(value, dict):
        if set(value) == {_REF}:
            name = value[_REF]
            if not isinstance(name, str) or name not in tensors:
                raise ModelFileError(f"checkpoint state refers to a missing tensor {name!r:.80}")
            return tensors[name]
        return {k: _unflatten(v, tensors) for k, v in value.items()}
    if isinstance(value, list):
        return [_unflatten(v, tensors) for v in value]
    return value


def save_checkpoint(
    path: str | os.PathLike[str],
    trainer: Trainer,
    *,
    classes: Sequence[ClassLabel] | None = None,
    preprocessing: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
) -> None:
    """Write the trainer's network and state to ``path`` atomically, between two epochs.

    Parameters
    ----------
    path:
        The checkpoint file (``*.safetensors``).
    trainer:
        The trainer; must not be in the middle of an epoch.
    classes, preprocessing:
        As for a model file, so a checkpoint can also be used as a model.
    config:
        Free-form JSON (e.g. the command line's settings) stored beside the state.

    Raises
    ------
    ValidationError
        In the middle of an epoch, or for a state that is not JSON-ready.
    ModelFileError
        If the file cannot be written; an older checkpoint at ``path`` is then unchanged.
    """
    tensors: dict[str, npt.NDArray[Any]] = {}
    state = _flatten(trainer.state_dict(), _PREFIX, tensors)
    net = trainer.net
    save_model(
        path,
        weights=net.weights,
        activations=names_of(net.activation_functions),
        loss=trainer.loss.name,
        classes=classes,
        task=trainer.task,
        preprocessing=preprocessing,
        training={"state": state, "config": dict(config or {})},
        extra_tensors=tensors,
        kind="checkpoint",
    )


def load_checkpoint(
    path: str | os.PathLike[str],
) -> tuple[ModelFile, dict[str, Any], dict[str, Any]]:
    """Read a checkpoint: ``(model_file, trainer_state, config)``.

    Raises
    ------
    ModelFileError
        If the file is not a valid chainrule checkpoint (a plain model file included).
    """
    model = load_model(path)
    training = model.training or {}
    if model.kind != "checkpoint" or "state" not in training:
        raise ModelFileError(
            f"{os.fspath(path)!r} is a chainrule model file, not a checkpoint: it holds no "
            "training state to resume from (write one with --checkpoint)"
        )
    state, config = training["state"], training.get("config") or {}
    if not isinstance(state, dict) or not isinstance(config, dict):
        raise ModelFileError(
            f"{os.fspath(path)!r} is not a checkpoint chainrule can resume from: its training "
            "state and config must be JSON objects"
        )
    return model, _unflatten(state, model.extra_tensors), config


def restore_trainer(trainer: Trainer, model: ModelFile, state: dict[str, Any]) -> None:
    """Put a checkpoint's state into ``trainer`` (built with the same settings).

    The network gets the weights of the end of the checkpoint's last epoch (the state's, not
    necessarily the model's: early stopping may have restored an earlier epoch's for the model).

    Raises
    ------
    ValidationError
        If the network's layers or dtype, the optimizer or the callbacks do not match.
    """
    net = trainer.net
    if list(model.sizes) != net.sizes or list(model.activations) != net.activations:
        raise ValidationError(
            f"the checkpoint's network is {list(model.sizes)} {list(model.activations)}; "
            f"this one is {net.sizes} {net.activations}"
        )
    if model.dtype != net.dtype.name:
        raise ValidationError(f"the checkpoint is {model.dtype}; this network is {net.dtype.name}")
    try:
        trainer.load_state_dict(state)
    except (KeyError, TypeError, AttributeError) as err:
        raise ModelFileError(f"the checkpoint's training state is incomplete: {err!r}") from None


class CheckpointCallback(Callback):
    """Writes a checkpoint every ``every`` epochs and when training ends at an epoch boundary.

    Each write replaces the file atomically (a reader or a crash never sees half a file). After
    Ctrl-C the unfinished epoch has moved the weights but not the epoch count, so no checkpoint is
    written then: the last one stays the resumable state.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        every: int = 1,
        *,
        classes: Sequence[ClassLabel] | None = None,
        preprocessing: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
    ) -> None:
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValidationError(f"checkpoint every must be an integer >= 1; got {every!r}")
        self.path = Path(path)
        self.every = every
        self.classes = classes
        self.preprocessing = preprocessing
        self.config = config
        self.written_epoch: int | None = None

    def _write(self, trainer: Trainer) -> None:
        save_checkpoint(
            self.path,
            trainer,
            classes=self.classes,
            preprocessing=self.preprocessing,
            config=self.config,
        )
        self.written_epoch = trainer.epoch

    def on_epoch_end(self, trainer: Trainer, record: dict[str, float]) -> None:
        if trainer.epoch % self.every == 0:
            self._write(trainer)

    def on_train_end(self, trainer: Trainer) -> None:
        if (
            trainer.record.stopped in ("completed", "early_stopping", "callback")
            and self.written_epoch != trainer.epoch
        ):
            self._write(trainer)

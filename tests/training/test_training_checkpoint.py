"""Checkpoints: a run resumed from one ends with bit-identical weights to one never stopped."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from chainrule.datasets import Dataset, load
from chainrule.engine.callbacks import EarlyStopping
from chainrule.engine.network import Network
from chainrule.engine.optimizers import make_optimizer
from chainrule.engine.schedules import Cosine, ReduceOnPlateau
from chainrule.engine.training import Trainer
from chainrule.errors import ModelFileError, ValidationError
from chainrule.fit import FittedModel, TrainConfig, fit
from chainrule.serialization import load_model, save_model
from chainrule.serialization.checkpoint import (
    CheckpointCallback,
    load_checkpoint,
    restore_trainer,
    save_checkpoint,
)

SPIRAL = load("spiral", n_samples=120, n_classes=3, seed=0)


def make_trainer(dtype, optimizer, callbacks=()):
    net = Network([2, 12, 3], ["tanh", "softmax"], seed=1, dtype=dtype)
    lr = 0.01 if optimizer == "adam" else 0.05
    return Trainer(
        net,
        SPIRAL.X,
        SPIRAL.y,
        optimizer=make_optimizer(optimizer, lr, weight_decay=1e-3),
        batch_size=16,
        seed=3,
        validation_data=(SPIRAL.X[:40], SPIRAL.y[:40]),
        schedule=Cosine(total_steps=60),
        plateau=ReduceOnPlateau(0.5, 0),
        callbacks=[EarlyStopping(patience=100), *callbacks],
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam"])
def test_resume_is_bit_identical_to_an_uninterrupted_run(tmp_path, dtype, optimizer):
    straight = make_trainer(dtype, optimizer)
    straight.fit(8)
    first = make_trainer(dtype, optimizer)
    first.fit(3)
    path = tmp_path / "run.ckpt.safetensors"
    save_checkpoint(path, first)
    del first
    resumed = make_trainer(dtype, optimizer)
    model, state, _ = load_checkpoint(path)
    restore_trainer(resumed, model, state)
    resumed.fit(5)
    for W, expected in zip(resumed.net.weights, straight.net.weights):
        assert W.dtype == np.dtype(dtype)
        assert W.tobytes() == expected.tobytes()
    assert resumed.record.to_dict() == straight.record.to_dict()
    assert resumed.steps == straight.steps and resumed.epoch == 8
    assert resumed.rng.bit_generator.state == straight.rng.bit_generator.state


def test_checkpoint_callback_writes_every_n_epochs_atomically(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    epochs_written = []

    class Watch(CheckpointCallback):
        def _write(self, trainer):
            super()._write(trainer)
            epochs_written.append(load_checkpoint(self.path)[1]["epoch"])

    trainer = make_trainer("float32", "adam", [Watch(path, every=2)])
    trainer.fit(5)
    assert epochs_written == [2, 4, 5]  # every 2, and the last epoch when training ends
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.safetensors"]
    model = load_model(path)
    assert model.kind == "checkpoint"
    assert any(name.startswith("state.optimizer.m.") for name in model.extra_tensors)


def test_checkpoint_after_early_stopping_resumes_from_the_last_epoch_not_the_best(tmp_path):
    """Early stopping puts the best epoch's weights in the network; the state keeps the last."""
    trainer = make_trainer("float64", "adam")
    # validation labels that disagree with training ones: val_loss rises as training succeeds
    trainer.validation = (trainer.validation[0], (trainer.validation[1] + 1) % 3)
    trainer.fit(6)
    assert trainer.record.best_epoch is not None and trainer.record.best_epoch < 6
    last_epoch_weights = trainer.state_dict()["weights"]
    save_checkpoint(tmp_path / "c", trainer)
    model, state, _ = load_checkpoint(tmp_path / "c")
    for saved, W, in_state, last in zip(
        model.weights, trainer.net.weights, state["weights"], last_epoch_weights
    ):
        np.testing.assert_array_equal(saved, W)  # the model part: the restored best weights
        np.testing.assert_array_equal(in_state, last)
        assert not np.array_equal(saved, last)
    resumed = make_trainer("float64", "adam")
    restore_trainer(resumed, model, state)
    for W, last in zip(resumed.net.weights, last_epoch_weights):
        np.testing.assert_array_equal(W, last)


def test_a_plain_model_file_is_not_a_checkpoint(tmp_path):
    net = Network([2, 3], ["softmax"], seed=0)
    save_model(
        tmp_path / "m", weights=net.weights, activations=net.activations, loss="cross_entropy"
    )
    with pytest.raises(ModelFileError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "m")


def test_restoring_into_another_network_is_refused(tmp_path):
    trainer = make_trainer("float32", "sgd")
    trainer.fit(1)
    save_checkpoint(tmp_path / "c", trainer)
    model, state, _ = load_checkpoint(tmp_path / "c")
    other = Trainer(Network([2, 5, 3], ["tanh", "softmax"], seed=0), SPIRAL.X, SPIRAL.y)
    with pytest.raises(ValidationError, match="checkpoint's network"):
        restore_trainer(other, model, state)
    wrong_optimizer = make_trainer("float32", "adam")
    with pytest.raises(ValidationError, match="optimizer state is for 'sgd'"):
        restore_trainer(wrong_optimizer, model, state)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_resume_equals_uninterrupted_fit(tmp_path, dtype):
    config = TrainConfig(
        hidden=(8,),
        epochs=6,
        early_stopping=True,
        patience=50,
        optimizer="momentum",
        learning_rate=0.05,
        dtype=dtype,
        seed=3,
    )
    straight = fit(SPIRAL, config)
    fit(
        SPIRAL,
        TrainConfig.from_dict({**config.to_dict(), "epochs": 2}),
        checkpoint=tmp_path / "c",
        checkpoint_every=2,
    )
    resumed = fit(SPIRAL, config, resume=tmp_path / "c")
    for W, expected in zip(resumed.net.weights, straight.net.weights):
        assert W.tobytes() == expected.tobytes()
    assert resumed.history == straight.history
    resumed.save(tmp_path / "m")
    again = FittedModel.load(tmp_path / "m")
    np.testing.assert_array_equal(again.predict(SPIRAL.X), straight.predict(SPIRAL.X))
    other = load("spiral", n_samples=120, n_classes=3, seed=9)
    with pytest.raises(ValidationError, match="other data"):
        fit(other, config, resume=tmp_path / "c")
    # the same numbers under other class labels: the saved outputs would mean other classes
    assert SPIRAL.classes is not None
    relabelled = replace(SPIRAL, classes=[f"class {c}" for c in SPIRAL.classes])
    with pytest.raises(ValidationError, match="other data"):
        fit(relabelled, config, resume=tmp_path / "c")


# -- the data a checkpoint records -------------------------------------------------------------

FRACTION_0 = TrainConfig(hidden=(6,), epochs=4, validation_fraction=0.0, seed=2)


def _rows(data, rows):
    return replace(data, X=data.X[rows], y=data.y[rows])


def test_resuming_with_validation_data_added_is_refused(tmp_path):
    """Without a held-out share the inputs are standardised on the same rows either way, so
    validation data given only to the resumed run went unnoticed and mixed two histories."""
    fit(SPIRAL, replace(FRACTION_0, epochs=2), checkpoint=tmp_path / "c")
    with pytest.raises(ValidationError) as err:
        fit(SPIRAL, FRACTION_0, resume=tmp_path / "c", validation_data=_rows(SPIRAL, slice(40)))
    assert str(err.value) == (
        f"the checkpoint {str(tmp_path / 'c')!r} was started without validation data, but "
        "validation data are given (40 rows of 2 features): resume it without them (leave out "
        "validation_data, --validation-data), or start a new run to score on them"
    )


def test_resuming_with_other_validation_data_of_the_same_size_is_refused(tmp_path):
    started = _rows(SPIRAL, slice(40))
    other = _rows(SPIRAL, slice(40, 80))
    fit(SPIRAL, replace(FRACTION_0, epochs=2), checkpoint=tmp_path / "c", validation_data=started)
    with pytest.raises(
        ValidationError,
        match=r"other validation data \(40 rows of 2 features, as then, but other values",
    ):
        fit(SPIRAL, FRACTION_0, resume=tmp_path / "c", validation_data=other)
    with pytest.raises(
        ValidationError,
        match=r"started with validation data \(40 rows of 2 features\), but none are given",
    ):
        fit(SPIRAL, FRACTION_0, resume=tmp_path / "c")


def test_resuming_with_the_same_validation_rows_equals_an_unbroken_run(tmp_path):
    """Equal rows in another Dataset object (read again from a file, say) are the same data."""
    config = replace(FRACTION_0, epochs=5)
    straight = fit(SPIRAL, config, validation_data=_rows(SPIRAL, slice(40)))
    fit(
        SPIRAL,
        replace(config, epochs=2),
        checkpoint=tmp_path / "c",
        validation_data=_rows(SPIRAL, slice(40)),
    )
    resumed = fit(SPIRAL, config, resume=tmp_path / "c", validation_data=_rows(SPIRAL, slice(40)))
    for W, expected in zip(resumed.net.weights, straight.net.weights):
        assert W.tobytes() == expected.tobytes()
    assert resumed.history == straight.history


def test_resuming_on_rows_with_targets_swapped_is_refused(tmp_path):
    """Two rows' labels swapped leave the standardisation's statistics exactly as they were,
    so the comparison of those alone resumed on other data."""
    fit(SPIRAL, replace(FRACTION_0, epochs=2), checkpoint=tmp_path / "c")
    y = SPIRAL.y.copy()
    first, other = 0, int(np.argmax(y != y[0]))
    y[[first, other]] = y[[other, first]]
    swapped = replace(SPIRAL, y=y)
    with pytest.raises(
        ValidationError,
        match=r"trained on other data \(120 rows of 2 features, as then, but other values or "
        r"another row order\)",
    ):
        fit(swapped, FRACTION_0, resume=tmp_path / "c")


def test_a_checkpoint_without_the_data_record_still_resumes(tmp_path):
    """Checkpoints written before the data were recorded resume as before (bit-identical)."""
    straight = fit(SPIRAL, FRACTION_0)
    fit(SPIRAL, replace(FRACTION_0, epochs=2), checkpoint=tmp_path / "new")
    new = load_model(tmp_path / "new")
    assert new.training is not None and {"data", "validation"} <= set(new.training["config"])
    config = {k: v for k, v in new.training["config"].items() if k not in ("data", "validation")}
    save_model(
        tmp_path / "old",
        weights=new.weights,
        activations=new.activations,
        loss=new.loss,
        classes=new.classes,
        task=new.task,
        preprocessing=new.preprocessing,
        training={"state": new.training["state"], "config": config},
        extra_tensors=new.extra_tensors,
        kind="checkpoint",
    )
    resumed = fit(SPIRAL, FRACTION_0, resume=tmp_path / "old")
    for W, expected in zip(resumed.net.weights, straight.net.weights):
        assert W.tobytes() == expected.tobytes()
    with pytest.raises(ValidationError, match="other data"):  # the old check still applies
        fit(_rows(SPIRAL, slice(100)), FRACTION_0, resume=tmp_path / "old")


def test_a_checkpoint_read_as_a_model_keeps_its_settings_names_and_history(tmp_path):
    """A checkpoint is also a model (README), but read as one it had the default settings, no
    feature names (its data were then read by position, whatever their header) and no loss
    curves. It now describes itself as the model file of the same run does."""
    rng = np.random.default_rng(5)
    X = rng.normal([3.0, -2.0], [2.0, 0.5], size=(80, 2))
    data = Dataset(X, X @ [1.5, -4.0] + 7.0, ["width", "depth"], "price", None, "regression")
    config = TrainConfig(hidden=(5,), epochs=3, seed=4, optimizer="sgd", learning_rate=0.05)
    fit(data, config, checkpoint=tmp_path / "c").save(tmp_path / "m")
    as_model, saved = FittedModel.load(tmp_path / "c"), FittedModel.load(tmp_path / "m")
    assert as_model.feature_names == saved.feature_names == ["width", "depth"]
    assert as_model.config == saved.config == config
    assert as_model.history.epochs == saved.history.epochs  # RMSE in the target's units
    frame = pd.DataFrame({"depth": X[:, 1], "width": X[:, 0]})
    np.testing.assert_array_equal(as_model.predict(frame), saved.predict(X))

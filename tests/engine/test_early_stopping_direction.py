"""EarlyStopping on a score to maximise (accuracy, r2) keeps the epoch where it was highest.

It minimised every key, so ``monitor="accuracy"`` counted each rise as a failure, stopped after
``patience`` rising epochs and restored the worst epoch's weights. The reference here is the
recorded series itself: its arg-max, and the weights a snapshot callback kept at that epoch.
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from chainrule.engine.callbacks import Callback, EarlyStopping, HistoryRecorder, ProgressLog
from chainrule.engine.network import Network
from chainrule.engine.training import Trainer
from chainrule.errors import ValidationError


class Snapshots(Callback):
    """The weights at the end of every epoch."""

    def __init__(self) -> None:
        self.weights: list[list[np.ndarray]] = []

    def on_epoch_end(self, trainer, record):
        self.weights.append([W.copy() for W in trainer.net.weights])


def _quadrants():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    return X, (X[:, 0] * X[:, 1] > 0).astype(int)


@pytest.mark.parametrize("monitor", ["accuracy", "val_accuracy"])
def test_accuracy_is_maximised_and_its_best_epoch_restored(monitor):
    X, y = _quadrants()
    net = Network([2, 8, 2], ["tanh", "softmax"], seed=0, dtype="float64")
    snapshots = Snapshots()
    stopper = EarlyStopping(monitor=monitor, patience=3)
    trainer = Trainer(
        net,
        X[:150],
        y[:150],
        validation_data=(X[150:], y[150:]),
        learning_rate=0.5,
        batch_size=15,
        seed=0,
        callbacks=[snapshots, stopper],
    )
    trainer.fit(40)
    series = trainer.record.series(monitor)
    assert stopper.mode == "max"
    assert max(series) > series[0]  # it did learn: a minimiser would have kept epoch 1
    best = int(np.argmax(series))  # first epoch of the highest score
    assert trainer.record.best_epoch == best + 1
    for got, want in zip(net.weights, snapshots.weights[best], strict=True):
        np.testing.assert_array_equal(got, want)


def test_regression_r2_is_maximised_and_rmse_minimised():
    assert EarlyStopping(monitor="val_r2").mode == "max"
    assert EarlyStopping(monitor="rmse").mode == "min"
    assert EarlyStopping(monitor="loss").mode == "min"
    assert EarlyStopping(monitor="accuracy", mode="min").mode == "min"  # asked for: kept


def test_a_maximised_score_survives_a_checkpoint_round_trip():
    stopper = EarlyStopping(monitor="accuracy")
    again = EarlyStopping(monitor="accuracy")
    again.load_state_dict(stopper.state_dict())  # nothing seen yet: best is None
    assert again.best == -np.inf


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"monitor": None}, "monitor must be a record key"), ({"mode": "up"}, "mode must be")],
)
def test_bad_monitor_and_mode_are_named(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        EarlyStopping(**kwargs)


def test_history_path_that_cannot_be_written_is_refused_before_the_first_epoch(tmp_path):
    X, y = _quadrants()
    net = Network([2, 3, 2], ["tanh", "softmax"], seed=0)
    before = [W.copy() for W in net.weights]
    for path, message in [(tmp_path, "is a directory"), (tmp_path / "no" / "h.json", "folder")]:
        trainer = Trainer(net, X, y, callbacks=[HistoryRecorder(path)])
        with pytest.raises(ValidationError, match=message):
            trainer.fit(1)
        assert all(np.array_equal(a, b) for a, b in zip(net.weights, before, strict=True))


def test_progress_every_takes_numpy_integers_as_patience_does():
    X, y = _quadrants()
    stream = io.StringIO()
    net = Network([2, 3, 2], ["tanh", "softmax"], seed=0)
    Trainer(net, X, y, callbacks=[ProgressLog(stream, every=np.int64(2))]).fit(4)
    assert [line.split()[1] for line in stream.getvalue().splitlines()] == ["2/4", "4/4"]

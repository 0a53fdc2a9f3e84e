"""The fit loop: per-epoch scores, validation, early stopping, Ctrl-C, divergence, callbacks."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, log_loss, mean_squared_error, r2_score

from chainrule.engine.callbacks import Callback, EarlyStopping, HistoryRecorder, ProgressLog
from chainrule.engine.network import Network
from chainrule.engine.optimizers import SGD, Adam, Momentum
from chainrule.engine.training import History, Trainer
from chainrule.errors import DivergenceError, ValidationError


def blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 3
    X = rng.normal(size=(n, 2)) + np.array([[0, 0], [3, 0], [0, 3]])[y]
    return X, y


class Snapshots(Callback):
    """Copies the weights at the end of every epoch (the oracle for what should be restored)."""

    def __init__(self):
        self.weights = []

    def on_epoch_end(self, trainer, record):
        self.weights.append([W.copy() for W in trainer.net.weights])


def test_full_batch_epoch_scores_are_those_of_the_starting_weights():
    X, y = blobs()
    net = Network([2, 5, 3], ["tanh", "softmax"], seed=0, dtype="float64")
    before = net.copy()
    trainer = Trainer(net, X, y, batch_size=None, learning_rate=0.1)
    trainer.fit(1)
    record = trainer.record.last
    proba = before.predict_proba(X)
    assert record["loss"] == pytest.approx(log_loss(y, proba), rel=1e-12)
    assert record["accuracy"] == accuracy_score(y, proba.argmax(axis=1))
    assert record["learning_rate"] == 0.1 and record["epoch"] == 1


def test_validation_scores_match_sklearn_with_the_epochs_final_weights():
    X, y = blobs()
    X_val, y_val = blobs(60, seed=1)
    net = Network([2, 5, 3], ["tanh", "softmax"], seed=0, dtype="float64")
    snapshots = Snapshots()
    trainer = Trainer(
        net,
        X,
        y,
        optimizer=Adam(0.01),
        seed=0,
        validation_data=(X_val, y_val),
        callbacks=[snapshots],
    )
    trainer.fit(3)
    for record, weights in zip(trainer.record.epochs, snapshots.weights):
        at_epoch = Network.from_weights(weights, net.activations)
        proba = at_epoch.predict_proba(X_val)
        assert record["val_loss"] == pytest.approx(log_loss(y_val, proba), rel=1e-10)
        assert record["val_accuracy"] == accuracy_score(y_val, proba.argmax(axis=1))
    assert trainer.history == trainer.record.series("loss")


def test_regression_records_r2_and_rmse():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(80, 2))
    y = X @ np.array([0.5, -1.0]) + 0.1
    X_val = rng.normal(size=(40, 2))
    y_val = X_val @ np.array([0.5, -1.0]) + 0.1
    net = Network([2, 4, 1], ["tanh", "identity"], seed=0, dtype="float64")
    before = net.copy()
    trainer = Trainer(
        net, X, y, batch_size=None, validation_data=(X_val, y_val), learning_rate=0.05
    )
    trainer.fit(1)
    record = trainer.record.last
    start = before.forward(X).ravel()
    assert record["r2"] == pytest.approx(r2_score(y, start), rel=1e-10)
    assert record["rmse"] == pytest.approx(np.sqrt(mean_squared_error(y, start)), rel=1e-10)
    end = net.forward(X_val).ravel()
    assert record["val_r2"] == pytest.approx(r2_score(y_val, end), rel=1e-10)
    assert record["val_rmse"] == pytest.approx(np.sqrt(mean_squared_error(y_val, end)), rel=1e-10)
    assert trainer.record.task == "regression"


def test_float32_regression_r2_is_scikit_learns_for_a_target_far_from_zero():
    """y ~ 1e4 +- 0.01: SS_tot centred in float32 lost most of its digits (r2 off by 0.2%)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(1000, 2))
    y = 1e4 + 0.01 * rng.normal(size=1000)
    net = Network([2, 1], ["identity"], seed=0)  # float32
    net.layers[0].W[:, -1] = 1e4
    start = net.forward(X).ravel()
    trainer = Trainer(net, X, y, optimizer=SGD(1e-9), batch_size=None, shuffle=False)
    trainer.fit(1)
    # the float32 target the network trains on, scored in float64 by scikit-learn
    y32 = y.astype(np.float32).astype(np.float64)
    assert trainer.record.last["r2"] == pytest.approx(r2_score(y32, start), rel=1e-9)


def test_early_stopping_restores_the_best_epoch():
    X, y = blobs()
    X_val, y_val = blobs(30, seed=5)
    net = Network([2, 16, 3], ["tanh", "softmax"], seed=0, dtype="float64")
    snapshots = Snapshots()
    stopper = EarlyStopping(patience=3)
    trainer = Trainer(
        net,
        X,
        y,
        optimizer=Adam(0.3),
        seed=0,
        batch_size=8,
        validation_data=(X_val, y_val),
        callbacks=[snapshots, stopper],
    )
    trainer.fit(200)
    val = trainer.record.series("val_loss")
    best = int(np.argmin(val))
    assert trainer.record.stopped == "early_stopping"
    assert len(val) == best + 1 + 3 < 200  # stopped at the third epoch without improvement
    assert trainer.record.best_epoch == best + 1
    for W, expected in zip(net.weights, snapshots.weights[best]):
        np.testing.assert_array_equal(W, expected)


def test_min_delta_decides_what_counts_as_improvement():
    X, y = blobs()
    net = Network([2, 8, 3], ["tanh", "softmax"], seed=0, dtype="float64")
    snapshots = Snapshots()
    trainer = Trainer(
        net,
        X,
        y,
        optimizer=Adam(0.01),
        seed=0,
        callbacks=[snapshots, EarlyStopping(monitor="loss", patience=2, min_delta=10.0)],
    )
    trainer.fit(50)
    assert trainer.record.series("loss")[0] > trainer.record.series("loss")[-1]
    assert len(trainer.record.epochs) == 3 and trainer.record.best_epoch == 1
    for W, expected in zip(net.weights, snapshots.weights[0]):
        np.testing.assert_array_equal(W, expected)


def test_early_stopping_on_validation_loss_needs_validation_data():
    X, y = blobs()
    net = Network([2, 3], ["softmax"], seed=0)
    trainer = Trainer(net, X, y, callbacks=[EarlyStopping(monitor="val_loss")])
    with pytest.raises(ValidationError, match="no validation data"):
        trainer.fit(2)


class InterruptAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_batch_end(self, trainer, loss):
        if trainer.steps == self.step:
            raise KeyboardInterrupt


def test_ctrl_c_ends_the_epoch_and_keeps_the_weights():
    X, y = blobs()
    reference = Network([2, 6, 3], ["tanh", "softmax"], seed=1, dtype="float64")
    net = reference.copy()
    plain = Trainer(reference, X, y, optimizer=SGD(0.2), batch_size=10, seed=4)
    for _ in range(17):  # one epoch is 12 steps: stop 5 steps into the second
        plain.step_minibatch()
    trainer = Trainer(
        net, X, y, optimizer=SGD(0.2), batch_size=10, seed=4, callbacks=[InterruptAt(17)]
    )
    losses = trainer.fit(10)
    assert trainer.record.stopped == "interrupted"
    assert "interrupted after 1 complete epochs" in trainer.record.message
    assert len(losses) == 1 and trainer.epoch == 1 and trainer.steps == 17
    assert not trainer.in_epoch
    for W, expected in zip(net.weights, reference.weights):
        np.testing.assert_array_equal(W, expected)
    with pytest.raises(ValidationError, match="middle of epoch"):
        trainer.state_dict()
    trainer.callbacks.clear()
    trainer.fit(1)  # training goes on from the kept weights
    assert trainer.epoch == 2 and trainer.record.stopped == "completed"
    trainer.state_dict()


def test_divergence_restores_the_last_good_epoch_and_says_what_to_change():
    X, y = blobs()
    net = Network([2, 8, 3], ["relu", "softmax"], seed=0, dtype="float64")
    snapshots = Snapshots()
    ended = []

    class Escalate(Callback):
        """Two sane epochs, then a learning rate that makes the loss overflow."""

        def on_epoch_end(self, trainer, record):
            if trainer.epoch == 2:
                trainer.optimizer.learning_rate = 1e8

        def on_train_end(self, trainer):
            ended.append(trainer.record.stopped)

    trainer = Trainer(
        net, X, y, optimizer=SGD(0.1), batch_size=4, seed=0, callbacks=[snapshots, Escalate()]
    )
    with pytest.raises(DivergenceError, match="Lower the learning rate") as info:
        trainer.fit(100)
    assert "try 1e+07" in str(info.value) and "epoch 3" in str(info.value)
    assert ended == ["diverged"] and trainer.record.stopped == "diverged"
    assert len(snapshots.weights) == 2 and info.value.epoch == 2
    for W, expected in zip(net.weights, snapshots.weights[1]):
        np.testing.assert_array_equal(W, expected)


def test_history_is_json_and_round_trips(tmp_path):
    X, y = blobs()
    net = Network([2, 4, 3], ["tanh", "softmax"], seed=0)
    path = tmp_path / "history.json"
    recorder = HistoryRecorder(path)
    stream = io.StringIO()
    trainer = Trainer(
        net,
        X,
        y,
        seed=0,
        validation_data=(X[:20], y[:20]),
        callbacks=[recorder, ProgressLog(stream, every=2)],
    )
    trainer.fit(4)
    on_disk = json.loads(path.read_text())
    assert on_disk == trainer.record.to_dict() == recorder.history
    assert History.from_dict(on_disk) == trainer.record
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]  # no temporary files left
    lines = stream.getvalue().splitlines()
    assert [line.split()[1] for line in lines] == ["2/4", "4/4"]
    assert "val_accuracy" in lines[-1]


def test_callbacks_that_share_a_key_are_refused():
    X, y = blobs()
    net = Network([2, 3], ["softmax"], seed=0)
    with pytest.raises(ValidationError, match="checkpoint key"):
        Trainer(net, X, y, callbacks=[EarlyStopping(), EarlyStopping()])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"patience": 0}, "patience"), ({"min_delta": -1.0}, "min_delta")],
)
def test_early_stopping_arguments_are_checked(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        EarlyStopping(**kwargs)


@pytest.mark.parametrize("make_optimizer", [lambda: Adam(0.01), lambda: Momentum(0.05, 0.9)])
def test_a_divergence_restores_the_optimizers_state_and_step_count(make_optimizer):
    """Momentum's velocity and Adam's moments learnt in the diverging epoch are huge or NaN:
    after the error, training on at a lower rate must continue from the last good epoch, exactly
    as a trainer that never diverged does."""
    X, y = blobs()

    def trainer_after_two_epochs():
        net = Network([2, 6, 3], ["tanh", "softmax"], seed=0, dtype="float64")
        trainer = Trainer(net, X, y, optimizer=make_optimizer(), batch_size=4, seed=0)
        trainer.fit(2)
        return trainer

    calm, diverged = trainer_after_two_epochs(), trainer_after_two_epochs()
    rate = diverged.optimizer.learning_rate
    diverged.optimizer.learning_rate = 1e307
    with pytest.raises(DivergenceError, match="and the optimizer's state"):
        diverged.fit(5)
    assert diverged.steps == calm.steps and diverged.optimizer.steps == calm.optimizer.steps
    diverged.optimizer.learning_rate = rate
    calm.fit(2)
    diverged.fit(2)
    for W_calm, W_diverged in zip(calm.net.weights, diverged.net.weights, strict=True):
        np.testing.assert_array_equal(W_diverged, W_calm)


def test_a_rate_set_between_fits_is_the_one_a_divergence_reports_and_keeps():
    """The learning rate a user sets before calling fit again is the one that overflowed: the
    error names it (not the previous epoch's), and the restore keeps it; the weights go back
    to the end of the last good epoch."""
    X, y = blobs()
    net = Network([2, 8, 3], ["relu", "softmax"], seed=0, dtype="float64")
    trainer = Trainer(net, X, y, optimizer=SGD(0.1), batch_size=4, seed=0)
    trainer.fit(2)
    good = [W.copy() for W in net.weights]
    trainer.optimizer.learning_rate = 1e8
    with pytest.raises(DivergenceError, match=r"now 1e\+08, try 1e\+07") as info:
        trainer.fit(3)
    assert "Restored the weights from the end of epoch 2" in str(info.value)
    assert trainer.optimizer.learning_rate == 1e8 and trainer.epoch == 2
    for W, expected in zip(net.weights, good, strict=True):
        np.testing.assert_array_equal(W, expected)


@pytest.mark.parametrize("shuffle", [False, True])
def test_a_batch_size_set_between_steps_is_checked_and_used(shuffle):
    """Shuffled, the minibatch buffer grows to the new size; unshuffled, batches are views."""
    X, y = blobs(n=10)
    net = Network([2, 3], ["softmax"], seed=0, dtype="float64")
    reference = net.copy()
    trainer = Trainer(net, X, y, optimizer=SGD(0.1), batch_size=4, shuffle=shuffle, seed=3)
    trainer.step_minibatch()  # the epoch's tokens 0..3
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValidationError, match=r"batch_size must be an integer >= 1 or None"):
            trainer.batch_size = bad
    trainer.batch_size = None  # the whole data set: the epoch's 6 remaining tokens at once
    assert trainer.batch_size == 10
    trainer.step_minibatch()
    assert not trainer.in_epoch and trainer.steps == 2
    # the same two steps by hand: w <- w - eta dL/dw on tokens 0..3, then on tokens 4..9
    order = trainer._order
    assert shuffle == (not np.array_equal(order, np.arange(10)))
    for batch in (order[0:4], order[4:10]):
        _, gradients = reference.loss_and_gradients(X[batch], y[batch])
        reference.set_weights([W - 0.1 * g for W, g in zip(reference.weights, gradients)])
    for got, want in zip(net.weights, reference.weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13)


@pytest.mark.parametrize("shuffle", [False, True])
def test_shuffle_set_during_an_epoch_takes_effect_at_the_next(shuffle):
    """Each minibatch pairs the rows of X and y that the epoch's order names, even when
    ``shuffle`` changes in the middle of it (turned off, the data's rows were paired with the
    shuffled targets)."""
    X, y = blobs(n=10)
    net = Network([2, 3], ["softmax"], seed=0, dtype="float64")
    reference = net.copy()
    trainer = Trainer(net, X, y, optimizer=SGD(0.1), batch_size=4, shuffle=shuffle, seed=3)
    trainer.step_minibatch()  # the epoch's tokens 0..3
    order = trainer._order.copy()
    trainer.shuffle = not shuffle
    losses = [trainer.step_minibatch(), trainer.step_minibatch()]  # tokens 4..7, 8..9
    assert not trainer.in_epoch and np.array_equal(trainer._order, order)
    # the same three steps by hand: w <- w - eta dL/dw on the epoch's tokens in its order
    expected = []
    for batch in (order[0:4], order[4:8], order[8:10]):
        loss, gradients = reference.loss_and_gradients(X[batch], y[batch])
        reference.set_weights([W - 0.1 * g for W, g in zip(reference.weights, gradients)])
        expected.append(loss)
    np.testing.assert_allclose(losses, expected[1:], rtol=1e-13)
    for got, want in zip(net.weights, reference.weights, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-13)
    trainer.step_minibatch()  # the next epoch follows the new setting
    assert shuffle == np.array_equal(trainer._order, np.arange(10))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch_size", [1, 3, None])
def test_every_shuffled_minibatch_is_the_epochs_rows_with_their_1(dtype, batch_size):
    """Gathered into the reused buffer, each step's input is ``[x, 1]`` of the tokens
    ``order[start:stop]`` of its epoch, the last and smaller one included."""
    X, y = blobs(n=10)
    net = Network([2, 4, 3], ["tanh", "softmax"], seed=0, dtype=dtype)
    trainer = Trainer(net, X, y, batch_size=batch_size, seed=5)
    inputs = []
    propagate = net.propagate

    def recording(h0, *, augmented=False):
        inputs.append(h0.copy())
        return propagate(h0, augmented=augmented)

    net.propagate = recording
    for _ in range(2):
        inputs.clear()
        trainer.fit(1)
        rows = np.c_[X, np.ones(len(X))].astype(dtype)[trainer._order]
        np.testing.assert_array_equal(np.concatenate(inputs), rows)
        assert [len(batch) for batch in inputs[:-1]] == [trainer.batch_size] * (len(inputs) - 1)


class _StopAtAccuracy(Callback):
    """A user's own stopping rule, stopping with a reason in words."""

    def __init__(self, target):
        self.target = target

    def on_epoch_end(self, trainer, record):
        if record["accuracy"] >= self.target:
            trainer.stop(message=f"training accuracy reached {record['accuracy']:.2f}")


def test_a_callback_stops_training_and_says_why():
    X, y = blobs()
    net = Network([2, 16, 3], ["tanh", "softmax"], seed=0, dtype="float64")
    stopper = _StopAtAccuracy(0.9)
    trainer = Trainer(net, X, y, optimizer=Adam(0.05), seed=0, callbacks=[stopper])
    trainer.fit(500)
    record = trainer.record
    reached = [a >= 0.9 for a in record.series("accuracy")]
    assert reached[-1] and not any(reached[:-1])  # ended at the first epoch that reached it
    assert record.stopped == "callback"
    assert record.message == f"training accuracy reached {record.epochs[-1]['accuracy']:.2f}"
    stopper.target = 2.0
    trainer.fit(1)  # the next fit runs to its end, with no stale message
    assert (trainer.record.stopped, trainer.record.message) == ("completed", "")


@pytest.mark.parametrize("reason", ["good enough", "diverged", "interrupted", "running"])
def test_stop_refuses_reasons_the_loop_keeps_for_itself_and_points_to_message(reason):
    X, y = blobs()
    trainer = Trainer(Network([2, 3, 3], ["tanh", "softmax"], seed=0), X, y)
    with pytest.raises(ValidationError) as err:
        trainer.stop(reason)
    assert str(err.value) == (
        "stop reason must be 'callback' or 'early_stopping' (what record.stopped will say); "
        f"got {reason!r}. Say why in words with message=..."
    )

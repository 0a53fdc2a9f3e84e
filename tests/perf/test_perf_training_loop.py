"""The training loop's fast path against its plain one.

``run_epoch`` and ``fit`` enter the steps' ``np.errstate`` once per epoch; ``step_minibatch``
enters it once per step, and so does the epoch loop when a callback has its own ``on_batch_end``.
Both must take the same steps, keep the same records and diverge the same way. The epoch's scores
(the accuracy-count function is chosen once, at construction) are checked against predictions
computed here.
"""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.engine import SGD, Network, Trainer
from chainrule.engine.callbacks import Callback
from chainrule.errors import DivergenceError

CASES = [
    ([3, 6, 3], ["tanh", "softmax"], "cross_entropy"),
    ([3, 5, 2], ["relu", "sigmoid"], "binary_cross_entropy"),
    ([3, 4, 2], ["sigmoid", "identity"], "mse"),
]


def _data(loss, n=23, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 3))
    if loss == "cross_entropy":
        return X, rng.integers(0, 3, n)
    if loss == "binary_cross_entropy":
        return X, rng.integers(0, 2, (n, 2)).astype(float)
    return X, rng.standard_normal((n, 2))


class BatchLosses(Callback):
    """Has its own ``on_batch_end``: the epoch loop then takes the per-step path."""

    def __init__(self):
        self.losses = []
        self.errstates = []

    def on_batch_end(self, trainer, loss):
        self.losses.append(loss)
        self.errstates.append(np.geterr())


class EpochErrstate(Callback):
    """Records the floating-point state the epoch's end runs under."""

    def __init__(self):
        self.errstates = []

    def on_epoch_end(self, trainer, record):
        self.errstates.append(np.geterr())


def _trainer(sizes, activations, loss, callbacks=(), learning_rate=0.1):
    X, y = _data(loss)
    net = Network(sizes, activations, seed=1, dtype="float64", loss=loss)
    return Trainer(
        net,
        X,
        y,
        optimizer=SGD(learning_rate),
        batch_size=5,  # 23 tokens: four batches of 5 and a last one of 3
        seed=2,
        validation_data=_data(loss, n=9, seed=3),
        callbacks=callbacks,
    )


@pytest.mark.parametrize(("sizes", "activations", "loss"), CASES)
def test_run_epoch_and_fit_take_the_steps_of_step_minibatch(sizes, activations, loss):
    per_step = _trainer(sizes, activations, loss)
    for _ in range(3 * 5):  # three epochs of five minibatches
        per_step.step_minibatch()
    by_epoch = _trainer(sizes, activations, loss)
    for _ in range(2):
        by_epoch.run_epoch()
    by_epoch.fit(1)
    recorder = BatchLosses()
    with_hook = _trainer(sizes, activations, loss, callbacks=[recorder])
    with_hook.fit(3)
    assert len(recorder.losses) == 15
    for trainer in (by_epoch, with_hook):
        assert trainer.steps == per_step.steps == 15
        assert trainer.epoch == per_step.epoch == 3
        assert trainer.history == per_step.history
        assert trainer.record.epochs == per_step.record.epochs
        for got, want in zip(trainer.net.weights, per_step.net.weights):
            np.testing.assert_array_equal(got, want)


def test_an_epoch_started_by_step_minibatch_is_finished_by_run_epoch():
    plain = _trainer(*CASES[0])
    mixed = _trainer(*CASES[0])
    losses = [plain.step_minibatch() for _ in range(10)]
    assert [mixed.step_minibatch() for _ in range(2)] == losses[:2]
    mixed.run_epoch()  # the three remaining minibatches of epoch 1
    assert mixed.epoch == 1 and mixed.steps == 5
    mixed.run_epoch()  # all of epoch 2
    assert mixed.history == plain.history
    for got, want in zip(mixed.net.weights, plain.net.weights):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(("sizes", "activations", "loss"), CASES)
def test_the_epoch_scores_are_those_of_the_predictions(sizes, activations, loss):
    """Full batch: one step per epoch, scored on h^(L) from before the update."""
    X, y = _data(loss)
    net = Network(sizes, activations, seed=1, dtype="float64", loss=loss)
    trainer = Trainer(net, X, y, optimizer=SGD(0.1), batch_size=None, shuffle=False)
    h = net.forward(X)
    trainer.fit(1)
    record = trainer.record.epochs[-1]
    if loss == "cross_entropy":
        assert record["accuracy"] == np.mean(np.argmax(h, axis=1) == y)
    elif loss == "binary_cross_entropy":
        assert record["accuracy"] == pytest.approx(np.mean((h > 0.5) == (y > 0.5)), abs=1e-15)
    else:
        assert record["rmse"] == pytest.approx(np.sqrt(np.mean((h - y) ** 2)), rel=1e-12)
        ss_res = np.sum((h - y) ** 2, axis=0)
        ss_tot = np.sum((y - y.mean(axis=0)) ** 2, axis=0)
        assert record["r2"] == pytest.approx(np.mean(1 - ss_res / ss_tot), rel=1e-12)


def test_callbacks_run_outside_the_steps_errstate():
    """The epoch loop's single errstate covers the steps only, as step_minibatch's does."""
    on_batch, on_epoch = BatchLosses(), EpochErrstate()
    outside = {"divide": "warn", "over": "warn", "under": "warn", "invalid": "warn"}
    with np.errstate(**outside):
        _trainer(*CASES[0], callbacks=[on_batch, on_epoch]).fit(2)
        _trainer(*CASES[0], callbacks=[EpochErrstate()]).run_epoch()
        lone = EpochErrstate()
        _trainer(*CASES[0], callbacks=[lone]).fit(2)
    assert on_batch.errstates == [outside] * 10
    assert on_epoch.errstates == lone.errstates == [outside] * 2


@pytest.mark.parametrize("driver", ["step_minibatch", "run_epoch", "fit"])
def test_divergence_is_caught_and_undone_the_same_way_on_every_path(driver):
    """A rate of 1e300 overflows in the second step: the steps' errstate raises, the loop restores
    the initial weights. Under the caller's errstate overflow would only warn."""
    messages = []
    for callbacks in ([], [BatchLosses()]):
        trainer = _trainer(*CASES[2], callbacks=callbacks, learning_rate=1e300)
        initial = [W.copy() for W in trainer.net.weights]
        with np.errstate(all="ignore"), pytest.raises(DivergenceError) as err:
            if driver == "fit":
                trainer.fit(3)
            else:
                for _ in range(10):
                    getattr(trainer, driver)()
        messages.append(str(err.value))
        for got, want in zip(trainer.net.weights, initial):
            np.testing.assert_array_equal(got, want)
        assert not trainer.in_epoch and trainer.epoch == 0
    assert messages[0] == messages[1]
    assert "training diverged in epoch 1, step 2: a floating-point error" in messages[0]


class CountHits(Callback):
    """The plain count: after each step, argmax of h^(L) against that minibatch's classes."""

    def __init__(self):
        self.hits, self.accuracies = 0, []

    def on_batch_end(self, trainer, loss):
        h = trainer.net.layers[-1].h  # from before the step's update
        stop = trainer._position
        y_batch = trainer._y_epoch[stop - len(h) : stop]
        self.hits += int(np.count_nonzero(np.argmax(h, axis=1) == y_batch))

    def on_epoch_end(self, trainer, record):
        self.accuracies.append(self.hits / len(trainer.X))
        self.hits = 0


def test_the_accuracy_of_shuffled_minibatches_is_the_plain_count():
    """The predictions kept per token and compared at the epoch's end count what a per-step
    comparison counts, whatever the shuffle and with a smaller last batch."""
    counter = CountHits()
    trainer = _trainer(*CASES[0], callbacks=[counter])
    trainer.fit(4)
    assert counter.accuracies == trainer.record.series("accuracy")
    assert len(set(counter.accuracies)) > 1  # the weights moved: not the same count each time

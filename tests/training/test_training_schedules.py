"""Learning-rate schedules against independent references: torch's schedulers, sklearn's formula."""

from __future__ import annotations

import math

import numpy as np
import pytest

from chainrule.engine.network import Network
from chainrule.engine.optimizers import SGD
from chainrule.engine.schedules import (
    Constant,
    Cosine,
    InverseScaling,
    ReduceOnPlateau,
    Schedule,
    StepDecay,
    make_schedule,
    schedule_from_dict,
)
from chainrule.engine.training import Trainer
from chainrule.errors import ValidationError

torch = pytest.importorskip("torch")
torch.set_num_threads(1)


def _torch_rates(make_scheduler, eta_0: float, steps: int) -> list[float]:
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=eta_0)
    scheduler = make_scheduler(optimizer)
    rates = []
    for _ in range(steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_constant_is_the_lectures_fixed_rate():
    assert [Constant()(t, 0.3) for t in (0, 1, 1000)] == [0.3, 0.3, 0.3]


def test_step_decay_matches_torch_steplr():
    ours = [StepDecay(step_size=7, gamma=0.5)(t, 0.2) for t in range(40)]
    theirs = _torch_rates(lambda o: torch.optim.lr_scheduler.StepLR(o, 7, gamma=0.5), 0.2, 40)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)


def test_cosine_matches_torch_cosine_annealing():
    ours = [Cosine(total_steps=25, eta_min=0.01)(t, 0.3) for t in range(26)]
    theirs = _torch_rates(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=25, eta_min=0.01), 0.3, 26
    )
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)
    assert Cosine(total_steps=25, eta_min=0.01)(100, 0.3) == pytest.approx(0.01)


def test_inverse_scaling_is_sklearns_invscaling():
    # sklearn's SGDOptimizer: learning_rate_init / pow(t + 1, power_t) after t updates
    for t in range(5):
        assert InverseScaling(power_t=0.25)(t, 0.1) == pytest.approx(0.1 / (t + 1) ** 0.25)


def test_reduce_on_plateau_matches_torch():
    rng = np.random.default_rng(0)
    losses = list(
        np.r_[np.linspace(1, 0.5, 6), 0.5 + 0.01 * rng.random(20), np.linspace(0.4, 0.1, 5)]
    )
    plateau = ReduceOnPlateau(factor=0.5, patience=2, min_delta=1e-3, min_scale=0.05)
    param = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([param], lr=1.0)
    reference = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer,
        mode="min",
        factor=0.5,
        patience=2,
        threshold=1e-3,
        threshold_mode="abs",
        min_lr=0.05,
    )
    ours, theirs = [], []
    for loss in losses:
        plateau.update(float(loss))
        reference.step(float(loss))
        ours.append(plateau.scale)
        theirs.append(optimizer.param_groups[0]["lr"])
    np.testing.assert_allclose(ours, theirs, rtol=1e-12)
    assert min(ours) == pytest.approx(0.05) and ours[0] == 1.0


def test_plateau_state_round_trips():
    plateau = ReduceOnPlateau(0.5, 1)
    for loss in (1.0, 1.0, 1.0):
        plateau.update(loss)
    copy = ReduceOnPlateau()
    copy.load_state_dict(plateau.state_dict())
    assert copy.state_dict() == plateau.state_dict()
    assert [copy.update(x) for x in (2.0, 2.0)] == [plateau.update(x) for x in (2.0, 2.0)]


@pytest.mark.parametrize(
    "schedule", [Constant(), InverseScaling(0.3), StepDecay(5, 0.3), Cosine(50, 0.001)]
)
def test_schedules_round_trip_through_json(schedule):
    assert schedule_from_dict(schedule.to_dict()) == schedule


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("cosine", {"total_steps": 0}, "total_steps"),
        ("step", {"gamma": -1.0}, "gamma"),
        ("invscaling", {"power_t": math.inf}, "power_t"),
        ("warmup", {}, "unknown schedule"),
        ("step", {"size": 3}, "bad parameters"),
    ],
)
def test_bad_schedule_parameters_are_named(name, params, message):
    with pytest.raises(ValidationError, match=message):
        make_schedule(name, **params)


def test_negative_step_is_refused():
    with pytest.raises(ValidationError, match="step number"):
        Constant()(-1, 0.1)


def test_trainer_sets_eta_t_before_each_step():
    """The loop hands the optimizer eta_t of the step about to be taken (times the plateau)."""
    X = np.random.default_rng(0).normal(size=(20, 2))
    y = (X[:, 0] > 0).astype(int)
    net = Network([2, 3, 2], ["tanh", "softmax"], seed=0, dtype="float64")
    schedule = StepDecay(step_size=3, gamma=0.5)
    seen = []

    class Spy(SGD):
        def step(self, params, grads):
            seen.append(self.learning_rate)
            super().step(params, grads)

    trainer = Trainer(net, X, y, optimizer=Spy(0.4), batch_size=5, schedule=schedule, seed=0)
    trainer.fit(2)
    assert seen == [schedule(t, 0.4) for t in range(8)]
    assert trainer.record.series("learning_rate") == [seen[3], seen[7]]


def test_numpy_scalars_are_numbers_for_schedules_and_stopping():
    """A step count computed with numpy (``np.int64``) was refused as "not an integer >= 1"."""
    import json

    from chainrule.engine.callbacks import EarlyStopping

    total = np.int64(40) * np.int64(3) // np.int64(4)  # 30 steps, as np.int64
    cosine = Cosine(total_steps=total, eta_min=np.float32(0.0))
    want = _torch_rates(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=30, eta_min=0.0), 0.1, 31
    )
    got = [cosine(np.int64(t), 0.1) for t in range(31)]  # torch's rises again after T_max
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    step = StepDecay(step_size=np.int32(4), gamma=np.float32(0.5))
    want = _torch_rates(lambda o: torch.optim.lr_scheduler.StepLR(o, 4, gamma=0.5), 1.0, 12)
    assert [step(t, 1.0) for t in range(12)] == pytest.approx(want, rel=1e-15)
    # what a checkpoint writes stays plain JSON
    for schedule in (cosine, step, InverseScaling(power_t=np.float32(0.25))):
        assert schedule_from_dict(json.loads(json.dumps(schedule.to_dict()))) == schedule
    assert ReduceOnPlateau(np.float32(0.5), np.int64(2)).patience == 2
    assert EarlyStopping(patience=np.int64(3), min_delta=np.float64(0.01)).patience == 3
    for bad in (True, 0, 2.0):
        with pytest.raises(ValidationError, match="total_steps must be an integer >= 1"):
            Cosine(total_steps=bad)


def _small_trainer(**options: object) -> Trainer:
    """A 2-4-2 tanh network on 40 points, 4 minibatches of 10 per epoch."""
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 2)), np.arange(40) % 2
    net = Network([2, 4, 2], ["tanh", "softmax"], seed=0, dtype="float64")
    return Trainer(net, X, y, batch_size=10, seed=0, **options)  # type: ignore[arg-type]


class _Wrong(Schedule):
    """A schedule of one's own that goes wrong after ``good`` steps."""

    def __init__(self, good: int, value: float) -> None:
        self.good, self.value = good, value

    def __call__(self, t: int, eta_0: float) -> float:
        return eta_0 if t < self.good else self.value

    def __repr__(self) -> str:
        return "_Wrong()"


@pytest.mark.parametrize("value", [-0.1, float("nan"), float("inf")])
def test_a_schedule_giving_a_rate_that_is_no_rate_is_refused_at_that_step(value) -> None:
    """A negative rate climbs the loss without a word, and NaN ended in "Lower the learning
    rate (now nan, try nan)"; the step it happened at is named, the weights are the last
    step's."""
    trainer = _small_trainer(schedule=_Wrong(6, value))
    net = trainer.net
    trainer.fit(1)  # steps 0..3
    before = [W.copy() for W in net.weights]
    trainer.step_minibatch()
    trainer.step_minibatch()  # steps 4, 5
    after_good = [W.copy() for W in net.weights]
    assert not all(np.array_equal(a, b) for a, b in zip(before, after_good, strict=True))
    with pytest.raises(ValidationError) as err:
        trainer.step_minibatch()
    assert str(err.value) == (
        f"the schedule _Wrong() gave the learning rate {value!r} at step 6; a rate must be a "
        "finite number >= 0 (0: a cosine's end)"
    )
    for W, good in zip(net.weights, after_good, strict=True):
        np.testing.assert_array_equal(W, good)


def test_a_cosine_ending_at_zero_trains_on_at_rate_zero() -> None:
    trainer = _small_trainer(schedule=Cosine(total_steps=4))
    net = trainer.net
    trainer.fit(1)
    frozen = [W.copy() for W in net.weights]
    trainer.fit(1)  # steps 4..7 at eta = 0: the weights stay
    assert trainer.optimizer.learning_rate == 0.0
    for W, before in zip(net.weights, frozen, strict=True):
        np.testing.assert_array_equal(W, before)


def test_a_rate_set_by_hand_to_nan_is_named_as_the_trainers_not_a_schedules() -> None:
    trainer = _small_trainer(plateau=ReduceOnPlateau())
    trainer.learning_rate = float("nan")
    with pytest.raises(ValidationError) as err:
        trainer.step_minibatch()
    assert str(err.value) == (
        "the trainer's learning_rate is nan at step 0; a rate must be a finite number >= 0 "
        "(0: a cosine's end)"
    )

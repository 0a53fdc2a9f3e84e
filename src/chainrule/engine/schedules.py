"""Learning-rate schedules: the rate ``eta_t`` as a pure function of the step number ``t``.

The lecture's update is ``w <- w - eta dL/dw`` with one fixed ``eta``. A schedule replaces it by
``eta_t``, computed from the base rate ``eta_0`` and the number ``t`` of gradient steps already
taken (``t = 0`` for the first step). The training loop sets the optimizer's ``learning_rate`` to
``eta_t`` before each step; the optimizer itself knows nothing of schedules.

:class:`ReduceOnPlateau` is the one rule that is not a function of ``t``: the training loop feeds
it the monitored loss once per epoch and it multiplies ``eta_t`` by ``factor`` each time the loss
stops improving. Its state travels in checkpoints through :meth:`ReduceOnPlateau.state_dict`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np

from chainrule.errors import ValidationError

__all__ = [
    "SCHEDULES",
    "Constant",
    "Cosine",
    "InverseScaling",
    "ReduceOnPlateau",
    "Schedule",
    "StepDecay",
    "make_schedule",
    "schedule_from_dict",
]


_INTEGERS = (int, np.integer)
"""Integer types: numpy's count too (``np.int64(epochs * n // batch)`` is a step count)."""

_NUMBERS = (int, float, np.integer, np.floating)


def positive_number(name: str, value: object, *, allow_zero: bool = False) -> float:
    """``value`` as a float if it is a finite number > 0 (>= 0 with ``allow_zero``; numpy's
    numbers too, ``True`` not), else a :class:`ValidationError` naming ``name``."""
    ok_type = isinstance(value, _NUMBERS) and not isinstance(value, bool)
    number = float(value) if ok_type else math.nan  # type: ignore[arg-type]
    if not (math.isfinite(number) and (number >= 0 if allow_zero else number > 0)):
        raise ValidationError(
            f"{name} must be a number {'>=' if allow_zero else '>'} 0; got {value!r}"
        )
    return number


def whole_number(name: str, value: object, *, low: int = 1) -> int:
    """``value`` as an int if it is an integer >= ``low`` (numpy's too, ``True`` not), else a
    :class:`ValidationError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, _INTEGERS) or value < low:
        raise ValidationError(f"{name} must be an integer >= {low}; got {value!r}")
    return int(value)


def _check_step(t: int) -> int:
    if isinstance(t, bool) or not isinstance(t, _INTEGERS) or t < 0:
        raise ValidationError(f"the step number t must be an integer >= 0; got {t!r}")
    return int(t)


def _store(schedule: Schedule, **checked: float) -> None:
    """Keep the checked values, as plain Python numbers, on a frozen schedule: its ``to_dict``
    is then JSON as it is, whatever numpy scalars it was given."""
    for field_name, value in checked.items():
        object.__setattr__(schedule, field_name, value)


@dataclass(frozen=True)
class Schedule:
    """Base class: ``schedule(t, eta_0)`` is the learning rate of step ``t`` (0-based)."""

    name: ClassVar[str] = ""

    def __call__(self, t: int, eta_0: float) -> float:
        """Return ``eta_t``."""
        raise NotImplementedError

    def to_dict(self) -> dict[str, Any]:
        """The schedule as JSON: ``{"name": ..., **parameters}``; see :func:`schedule_from_dict`."""
        return {"name": self.name, **asdict(self)}


@dataclass(frozen=True)
class Constant(Schedule):
    """``eta_t = eta_0``: the lecture's fixed learning rate."""

    name: ClassVar[str] = "constant"

    def __call__(self, t: int, eta_0: float) -> float:
        _check_step(t)
        return eta_0


@dataclass(frozen=True)
class InverseScaling(Schedule):
    """``eta_t = eta_0 / (t + 1)^power_t`` (the formula of scikit-learn's ``invscaling``).

    Here ``t`` counts gradient steps and the rate changes at every step. scikit-learn's MLP
    counts the samples seen instead and changes the rate once per epoch (the
    :mod:`chainrule.estimators` adapters do that themselves): the same formula, another ``t``.

    >>> InverseScaling(power_t=0.5)(3, 1.0)
    0.5
    """

    power_t: float = 0.5
    name: ClassVar[str] = "invscaling"

    def __post_init__(self) -> None:
        _store(self, power_t=positive_number("power_t", self.power_t, allow_zero=True))

    def __call__(self, t: int, eta_0: float) -> float:
        return float(eta_0 / (_check_step(t) + 1) ** self.power_t)


@dataclass(frozen=True)
class StepDecay(Schedule):
    """``eta_t = eta_0 gamma^floor(t / step_size)``: times ``gamma`` every ``step_size`` steps.

    >>> StepDecay(step_size=10, gamma=0.5)(25, 1.0)
    0.25
    """

    step_size: int = 1000
    gamma: float = 0.1
    name: ClassVar[str] = "step"

    def __post_init__(self) -> None:
        _store(
            self,
            step_size=whole_number("step_size", self.step_size),
            gamma=positive_number("gamma", self.gamma),
        )

    def __call__(self, t: int, eta_0: float) -> float:
        return float(eta_0 * self.gamma ** (_check_step(t) // self.step_size))


@dataclass(frozen=True)
class Cosine(Schedule):
    """``eta_t = eta_min + (eta_0 - eta_min) (1 + cos(pi min(t, T) / T)) / 2`` over ``T`` steps.

    Falls from ``eta_0`` at ``t = 0`` to ``eta_min`` at ``t = T`` and stays there.

    >>> Cosine(total_steps=100)(50, 1.0)
    0.5
    """

    total_steps: int = 1000
    eta_min: float = 0.0
    name: ClassVar[str] = "cosine"

    def __post_init__(self) -> None:
        _store(
            self,
            total_steps=whole_number("total_steps", self.total_steps),
            eta_min=positive_number("eta_min", self.eta_min, allow_zero=True),
        )

    def __call__(self, t: int, eta_0: float) -> float:
        progress = min(_check_step(t), self.total_steps) / self.total_steps
        return self.eta_min + (eta_0 - self.eta_min) * (1 + math.cos(math.pi * progress)) / 2


SCHEDULES: dict[str, type[Schedule]] = {
    cls.name: cls for cls in (Constant, InverseScaling, StepDecay, Cosine)
}
"""The schedules by name."""


def make_schedule(name: str, **parameters: Any) -> Schedule:
    """Build a schedule by name (``constant``, ``invscaling``, ``step``, ``cosine``).

    Raises
    ------
    ValidationError
        For an unknown name or a bad parameter.
    """
    if name not in SCHEDULES:
        raise ValidationError(
            f"unknown schedule {name!r}; expected one of {', '.join(sorted(SCHEDULES))}"
        )
    try:
        return SCHEDULES[name](**parameters)
    except TypeError as err:
        raise ValidationError(f"bad parameters for schedule {name!r}: {err}") from None


def schedule_from_dict(state: dict[str, Any]) -> Schedule:
    """Rebuild a schedule from :meth:`Schedule.to_dict`."""
    parameters = dict(state)
    return make_schedule(str(parameters.pop("name", "")), **parameters)


class ReduceOnPlateau:
    """Multiply the learning rate by ``factor`` when the monitored loss stops improving.

    The loop calls :meth:`update` once per epoch with the monitored loss (the validation loss when
    there is one). A loss counts as an improvement when it is below ``best - min_delta``; after
    more than ``patience`` epochs without one, :attr:`scale` is multiplied by ``factor`` (never
    below ``min_scale``) and the count starts again. The loop uses ``eta = scale * eta_t``.

    >>> plateau = ReduceOnPlateau(factor=0.5, patience=1)
    >>> [plateau.update(loss) for loss in (1.0, 1.0, 1.0, 0.5)]
    [False, False, True, False]
    >>> plateau.scale
    0.5
    """

    def __init__(
        self,
        factor: float = 0.1,
        patience: int = 5,
        *,
        min_delta: float = 1e-4,
        min_scale: float = 1e-6,
    ) -> None:
        self.factor = positive_number("factor", factor)
        if self.factor >= 1:
            raise ValidationError(f"factor must be < 1 to reduce the rate; got {factor!r}")
        self.patience = whole_number("patience", patience, low=0)
        self.min_delta = positive_number("min_delta", min_delta, allow_zero=True)
        self.min_scale = positive_number("min_scale", min_scale)
        self.scale = 1.0
        self.best = math.inf
        self.wait = 0

    def update(self, loss: float) -> bool:
        """Record one epoch's monitored loss; return True when the rate was just reduced."""
        if loss < self.best - self.min_delta:
            self.best, self.wait = loss, 0
            return False
        self.wait += 1
        if self.wait <= self.patience or self.scale <= self.min_scale:
            return False
        self.scale = max(self.scale * self.factor, self.min_scale)
        self.wait = 0
        return True

    def state_dict(self) -> dict[str, Any]:
        """Parameters and state, as JSON-ready values (``best`` is ``None`` before any loss)."""
        return {
            "factor": self.factor,
            "patience": self.patience,
            "min_delta": self.min_delta,
            "min_scale": self.min_scale,
            "scale": self.scale,
            "best": None if math.isinf(self.best) else self.best,
            "wait": self.wait,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        checked = ReduceOnPlateau(
            state["factor"],
            state["patience"],
            min_delta=state["min_delta"],
            min_scale=state["min_scale"],
        )
        self.factor, self.patience = checked.factor, checked.patience
        self.min_delta, self.min_scale = checked.min_delta, checked.min_scale
        self.scale = float(state["scale"])
        self.best = math.inf if state["best"] is None else float(state["best"])
        self.wait = int(state["wait"])

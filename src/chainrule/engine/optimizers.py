"""Optimizers: rules that update parameters in place from their gradients.

The contract is narrow on purpose: ``step(params, grads)`` receives two aligned lists of arrays
and updates each ``params[i]`` in place from ``grads[i]``. An optimizer never looks inside a layer;
learning-rate schedules and stopping belong to the training loop, which may set
``learning_rate`` before any step.

The lecture's rule is plain gradient descent, :class:`SGD`::

    w_jk^(l) <- w_jk^(l) - eta dL/dw_jk^(l)

The others follow ``torch.optim`` exactly (same formulas, same order of operations), so that the
same gradients give the same weights. ``weight_decay`` adds ``weight_decay * w`` to each gradient
(L2 regularisation, as ``torch.optim`` does), on every entry of the arrays given, including a
bias column.
"""

from __future__ import annotations

import inspect
import math
import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chainrule.errors import ValidationError

Array = NDArray[np.floating]


def _check_arrays(params: Sequence[Any], grads: Sequence[Any] | None) -> None:
    """Refuse, by index, parameters that cannot be updated in place (not a writable
    floating-point numpy array: a list, an int array) and gradients of another shape. numpy
    said "cannot create weak reference to 'list' object" or "Cannot cast ufunc 'multiply'
    output", and broadcast a ``(3,)`` gradient over ``(2, 3)`` weights without a word."""
    if isinstance(params, np.ndarray):
        raise ValidationError(
            f"params must be a list of arrays; got one array of shape {params.shape}: "
            "pass [W] (and [dL_dW] as grads)"
        )
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray):
            raise ValidationError(
                f"params[{i}] must be a numpy array (it is updated in place); got "
                f"{type(p).__name__}: pass a list of arrays, such as [W1, W2]"
            )
        if not np.issubdtype(p.dtype, np.floating):
            raise ValidationError(
                f"params[{i}] has dtype {p.dtype.name}; an update w - eta dL/dw needs floats: "
                f"convert it first, e.g. params[{i}].astype(np.float64)"
            )
        if not p.flags.writeable:
            raise ValidationError(f"params[{i}] is read-only; give an array that can be updated")
        if grads is not None and np.shape(grads[i]) != p.shape:
            raise ValidationError(
                f"grads[{i}] has shape {np.shape(grads[i])} but params[{i}] has {p.shape}: "
                "each gradient must have the shape of its parameter"
            )


def _check_rate(name: str, value: float, *, low: float = 0.0, inclusive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValidationError(f"{name} must be a number; got {value!r}")
    value = float(value)
    ok = math.isfinite(value) and (value >= low if inclusive else value > low)
    if not ok:
        raise ValidationError(f"{name} must be {'>=' if inclusive else '>'} {low}; got {value}")
    return value


def _check_fraction(name: str, value: float, *, below_1: bool) -> float:
    """A real number in ``[0, 1]`` (``[0, 1)`` when ``below_1``): numpy scalars such as
    ``np.float32(0.9)`` are numbers too; ``True`` is not."""
    number = isinstance(value, int | float | np.floating | np.integer)
    if (
        isinstance(value, bool)
        or not number
        or not (0 <= value < 1 or (value == 1 and not below_1))
    ):
        raise ValidationError(f"{name} must be in [0, 1{')' if below_1 else ']'}; got {value!r}")
    return float(value)


class Optimizer:
    """Base class: holds the learning rate, weight decay and per-parameter state."""

    name = ""

    def __init__(self, learning_rate: float = 0.01, *, weight_decay: float = 0.0) -> None:
        self.learning_rate = _check_rate("learning_rate", learning_rate)
        self.weight_decay = _check_rate("weight_decay", weight_decay, inclusive=True)
        self.steps = 0
        self._scratch: list[Array] = []
        self._decayed: list[Array] = []  # g + lambda w: apart from _scratch, which step() reuses
        self._layout: list[tuple[tuple[int, ...], np.dtype[Any]]] = []
        self._params: list[weakref.ref[Array]] = []  # the arrays the state is for

    def _effective_gradients(
        self, params: Sequence[Array], grads: Sequence[Array]
    ) -> Sequence[Array]:
        """``grad + weight_decay * w`` into buffers of their own (or the gradients themselves),
        the state bound to ``params`` (see :meth:`_bind`)."""
        if len(params) != len(grads):
            raise ValidationError(f"{len(params)} parameters but {len(grads)} gradients")
        self._bind(params, grads)
        layout = [(p.shape, p.dtype) for p in params]
        if layout != self._layout:  # new parameters: new scratch buffers (else reuse them)
            self._scratch = [np.empty_like(p) for p in params]
            self._decayed = []
            self._layout = layout
        if self.weight_decay == 0:
            return grads
        if not self._decayed:
            self._decayed = [np.empty_like(p) for p in params]
        out = []
        for p, g, s in zip(params, grads, self._decayed, strict=True):
            np.multiply(p, self.weight_decay, out=s)
            s += g  # g + lambda w: the gradient of L + (lambda / 2) ||w||^2
            out.append(s)
        return out

    def _bind(self, params: Sequence[Array], grads: Sequence[Any] | None = None) -> None:
        """Make the state that of ``params``, checked (see :func:`_check_arrays`) when they are
        not the last step's, so that the steps of one training run cost no checks.

        Other parameter arrays than the last step's (the optimizer was given to a second
        network) start from a fresh state, as ``torch.optim`` keeps its state per parameter:
        the first network's momentum must not push the second's weights, nor its steps count
        as the second's. A state loaded by :meth:`load_state_dict` is adopted instead, when its
        arrays have the parameters' shapes.
        """
        if len(params) != len(self._params) or any(
            ref() is not p for ref, p in zip(self._params, params, strict=False)
        ):
            _check_arrays(params, grads)
            if self._params:
                self._forget()
            else:
                self._check_state(params)
            self._params = [weakref.ref(p) for p in params]

    def _state_arrays(self) -> dict[str, list[Array]]:
        """The per-parameter state by name (momentum's ``velocity``, Adam's ``m`` and ``v``)."""
        return {}

    def _check_state(self, params: Sequence[Array]) -> None:
        """Refuse a state (loaded, or learnt before) whose arrays do not fit ``params``: numpy's
        broadcasting error named neither the optimizer's state nor the shapes to match."""
        want = [p.shape for p in params]
        for name, arrays in self._state_arrays().items():
            if arrays and [a.shape for a in arrays] != want:
                raise ValidationError(
                    f"{self!r}'s state {name!r} holds arrays of shapes "
                    f"{[a.shape for a in arrays]}, but the parameters have shapes {want}: "
                    "load the state of an optimizer that trained these parameters, or use a "
                    "new optimizer"
                )

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        """Update every ``params[i]`` in place from ``grads[i]``."""
        raise NotImplementedError

    def _forget(self) -> None:
        """Drop the state learnt for other parameters (momentum, moments, the step count)."""
        self.steps = 0

    def __getstate__(self) -> dict[str, Any]:
        """A copy or pickle keeps the state, but not which arrays it is for (weak references do
        not copy): the next step's parameters adopt it, as after :meth:`load_state_dict`."""
        return {**self.__dict__, "_params": []}

    def plain_rate(self) -> float | None:
        """``eta`` when the next :meth:`step` is exactly the lecture's ``w <- w - eta dL/dw``
        (plain SGD without weight decay), else ``None``.

        A caller that takes that step itself (a layer can, in the product that computes
        ``dL/dw``: see :meth:`~chainrule.engine.layers.Dense.backward`) then calls
        :meth:`stepped` instead of :meth:`step`.
        """
        return None

    def stepped(self, params: Sequence[Array]) -> None:
        """Count a step the caller took on ``params`` at :meth:`plain_rate` (only SGD has
        nothing else to do). ``params`` are the arrays :meth:`step` would have been given: a
        step on other arrays than the last one's starts the count afresh, as :meth:`step` does.
        """
        if self.plain_rate() is None:
            raise ValidationError(f"{self!r} takes its own steps: call step(params, grads)")
        self._bind(params)
        self.steps += 1

    def state_dict(self) -> dict[str, Any]:
        """Hyper-parameters and state: floats, ints and lists of arrays (copies)."""
        return {
            "name": self.name,
            "learning_rate": self.learning_rate,
            "weight_decay": self.weight_decay,
            "steps": self.steps,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned (arrays are copied in)."""
        if state.get("name") != self.name:
            raise ValidationError(
                f"optimizer state is for {state.get('name')!r}, not {self.name!r}"
            )
        self.learning_rate = float(state["learning_rate"])
        self.weight_decay = float(state["weight_decay"])
        self.steps = int(state["steps"])
        self._params = []  # the state is for whichever parameters the next step brings

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self.learning_rate})"


class SGD(Optimizer):
    """The lecture's gradient descent, ``w <- w - eta dL/dw``."""

    name = "sgd"

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        grads = self._effective_gradients(params, grads)
        eta = self.learning_rate
        for w, dL_dw, scratch in zip(params, grads, self._scratch, strict=True):
            w -= np.multiply(dL_dw, eta, out=scratch)  # w <- w - eta dL/dw
        self.steps += 1

    def plain_rate(self) -> float | None:
        return self.learning_rate if self.weight_decay == 0 else None


def _copy_arrays(arrays: list[Array]) -> list[Array]:
    return [a.copy() for a in arrays]


def _load_arrays(name: str, arrays: Any, like: list[Array] | None) -> list[Array]:
    loaded = [np.array(a, copy=True) for a in arrays]
    # No arrays: the state of an optimizer that has not stepped yet, which resets this one.
    if like and loaded and [a.shape for a in like] != [a.shape for a in loaded]:
        raise ValidationError(f"optimizer state {name!r} has shapes that do not match")
    return loaded


class Momentum(SGD):
    """SGD with (optionally Nesterov) momentum, as ``torch.optim.SGD``::

    b <- mu b + g            (b = g on the first step)
    d = g + mu b  if nesterov else  b
    w <- w - eta d
    """

    name = "momentum"

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.9,
        *,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(learning_rate, weight_decay=weight_decay)
        self.momentum = _check_fraction("momentum", momentum, below_1=False)
        self.nesterov = bool(nesterov)
        self.velocity: list[Array] = []

    def plain_rate(self) -> None:
        return None  # the step follows the velocity, not dL/dw alone

    def _forget(self) -> None:
        super()._forget()
        self.velocity = []

    def _state_arrays(self) -> dict[str, list[Array]]:
        return {"velocity": self.velocity}

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        grads = self._effective_gradients(params, grads)
        mu, eta = self.momentum, self.learning_rate
        if not self.velocity:
            self.velocity = [np.array(g, order="K") for g in grads]  # b = g, first step
        else:
            for b, g in zip(self.velocity, grads, strict=True):
                b *= mu
                b += g  # b <- mu b + g
        for w, g, b, scratch in zip(params, grads, self.velocity, self._scratch, strict=True):
            if self.nesterov:
                d = np.multiply(b, mu, out=scratch)
                d += g  # d = g + mu b
            else:
                np.copyto(scratch, b)
                d = scratch  # d = b
            d *= eta
            w -= d  # w <- w - eta d
        self.steps += 1

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "velocity": _copy_arrays(self.velocity),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.momentum = float(state["momentum"])
        self.nesterov = bool(state["nesterov"])
        self.velocity = _load_arrays("velocity", state["velocity"], self.velocity)


class Adam(Optimizer):
    """Adam (Kingma and Ba), as ``torch.optim.Adam``::

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
    w <- w - (eta / (1 - b1^t)) m / (sqrt(v) / sqrt(1 - b2^t) + eps)
    """

    name = "adam"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        *,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(learning_rate, weight_decay=weight_decay)
        self.beta_1 = _check_fraction("beta_1", beta_1, below_1=True)
        self.beta_2 = _check_fraction("beta_2", beta_2, below_1=True)
        self.epsilon = _check_rate("epsilon", epsilon)
        self.m: list[Array] = []
        self.v: list[Array] = []

    def _forget(self) -> None:
        super()._forget()
        self.m, self.v = [], []

    def _state_arrays(self) -> dict[str, list[Array]]:
        return {"m": self.m, "v": self.v}

    def step(self, params: Sequence[Array], grads: Sequence[Array]) -> None:
        grads = self._effective_gradients(params, grads)
        if not self.m:
            self.m = [np.zeros_like(p) for p in params]
            self.v = [np.zeros_like(p) for p in params]
        self.steps += 1
        b1, b2, t = self.beta_1, self.beta_2, self.steps
        step_size = self.learning_rate / (1 - b1**t)
        bias_correction2_sqrt = math.sqrt(1 - b2**t)
        for w, g, m, v, scratch in zip(params, grads, self.m, self.v, self._scratch, strict=True):
            m *= b1
            np.multiply(g, 1 - b1, out=scratch)
            m += scratch  # m <- b1 m + (1 - b1) g
            v *= b2
            np.multiply(g, g, out=scratch)
            scratch *= 1 - b2
            v += scratch  # v <- b2 v + (1 - b2) g^2
            denom = np.sqrt(v, out=scratch)
            denom /= bias_correction2_sqrt
            denom += self.epsilon
            np.divide(m, denom, out=scratch)
            scratch *= step_size
            w -= scratch

    def state_dict(self) -> dict[str, Any]:
        return {
            **super().state_dict(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "m": _copy_arrays(self.m),
            "v": _copy_arrays(self.v),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.beta_1, self.beta_2 = float(state["beta_1"]), float(state["beta_2"])
        self.epsilon = float(state["epsilon"])
        self.m = _load_arrays("m", state["m"], self.m)
        self.v = _load_arrays("v", state["v"], self.v)


OPTIMIZERS: dict[str, type[Optimizer]] = {"sgd": SGD, "momentum": Momentum, "adam": Adam}


def make_optimizer(name: str, learning_rate: float, **options: Any) -> Optimizer:
    """Build an optimizer by name (``sgd``, ``momentum``, ``nesterov``, ``adam``)."""
    if name != "nesterov" and name not in OPTIMIZERS:
        raise ValidationError(
            f"unknown optimizer {name!r}; expected one of adam, momentum, nesterov, sgd"
        )
    cls, fixed = (Momentum, {"nesterov": True}) if name == "nesterov" else (OPTIMIZERS[name], {})
    known = set(inspect.signature(cls).parameters) - {"learning_rate", *fixed}
    unknown = sorted(set(options) - known)
    if unknown:  # Python's TypeError named neither the optimizer nor what it takes
        raise ValidationError(
            f"optimizer {name!r} has no option {', '.join(map(repr, unknown))}; it takes "
            f"{', '.join(sorted(known))}"
        )
    return cls(learning_rate, **fixed, **options)

"""McCulloch-Pitts threshold units and the logic gates the lecture builds from them.

A McCulloch-Pitts neuron (1943) fires when a weighted sum of its binary inputs exceeds a
threshold (lecture, "a McCulloch-Pitts neuron can compute some logical functions")::

    y = u(w . x + b),    u(e) = 1 if e > 0 else 0

The lecture's examples: OR is ``u(x1 + x2 - 0.5)`` and AND is ``u(x1 + x2 - 1.5)``; NOT, NAND
and NOR follow the same pattern. Each gate is also an engine
:class:`~chainrule.engine.network.Network` with one ``step`` layer whose weight matrix is
``[w_1, ..., w_D, b]`` (the bias in the last column, as for every ``W^(l)``), so the engine's
forward pass computes the same truth table.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from chainrule.engine.network import Network
from chainrule.errors import ValidationError

TruthTable = dict[tuple[int, ...], int]
"""Maps each binary input ``(x_1, ..., x_D)`` to the gate's output, 0 or 1."""


def binary_inputs(n_inputs: int) -> NDArray[np.float64]:
    """All ``2**n_inputs`` binary inputs in counting order, shape ``(2**n_inputs, n_inputs)``.

    >>> binary_inputs(2).tolist()
    [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    """
    if isinstance(n_inputs, bool) or not isinstance(n_inputs, int) or not 1 <= n_inputs <= 10:
        raise ValidationError(f"n_inputs must be an integer in 1..10; got {n_inputs!r}")
    return np.array(list(itertools.product((0, 1), repeat=n_inputs)), dtype=np.float64)


@dataclass(frozen=True)
class Neuron:
    """A McCulloch-Pitts unit ``y = u(w . x + b)``.

    Parameters
    ----------
    weights:
        ``w = (w_1, ..., w_D)``, one weight per input.
    bias:
        ``b``, the weight on the constant input 1.

    Examples
    --------
    >>> OR = Neuron((1.0, 1.0), -0.5)   # u(x1 + x2 - 0.5)
    >>> [OR((0, 0)), OR((0, 1)), OR((1, 0)), OR((1, 1))]
    [0, 1, 1, 1]
    """

    weights: tuple[float, ...]
    bias: float

    def __post_init__(self) -> None:
        problem = (
            "a neuron needs a sequence of finite weights, one per input, and a finite bias, "
            f"e.g. Neuron((1.0, 1.0), -0.5); got weights {self.weights!r}, bias {self.bias!r}"
        )
        if isinstance(self.weights, str | bytes) or isinstance(self.bias, str | bytes):
            raise ValidationError(problem)  # "11" would be read as the weights 1 and 1
        try:  # a lone number (Neuron(1.0, 0.5)) would end in a TypeError of float()
            weights = tuple(float(w) for w in self.weights)
            bias = float(self.bias)
        except (TypeError, ValueError):
            raise ValidationError(problem) from None
        if not weights or not all(np.isfinite(weights)) or not np.isfinite(bias):
            raise ValidationError(problem)
        object.__setattr__(self, "weights", weights)
        object.__setattr__(self, "bias", bias)

    @property
    def n_inputs(self) -> int:
        """``D``, the number of inputs."""
        return len(self.weights)

    def excitation(self, x: ArrayLike) -> float:
        """``e = w . x + b`` for one input ``x`` of length ``D``."""
        values = np.asarray(x, dtype=np.float64)
        if values.shape != (self.n_inputs,):
            raise ValidationError(
                f"x must hold {self.n_inputs} inputs; got an array of shape {values.shape}"
            )
        return float(values @ np.asarray(self.weights) + self.bias)

    def __call__(self, x: ArrayLike) -> int:
        """``y = u(w . x + b)``: 1 when the excitation is positive, else 0."""
        return int(self.excitation(x) > 0)

    def network(self) -> Network:
        """This unit as an engine network: one ``step`` layer, ``W^(1) = [w_1 .. w_D, b]``."""
        return Network.from_weights(
            [[[*self.weights, self.bias]]], activations=["step"], dtype=np.float64
        )

    def formula(self, names: Sequence[str] | None = None) -> str:
        """The unit as the lecture writes it, e.g. ``u(x1 + x2 - 0.5)``."""
        names = list(names) if names is not None else [f"x{i + 1}" for i in range(self.n_inputs)]
        if len(names) != self.n_inputs:
            raise ValidationError(
                f"formula needs one name per input ({self.n_inputs}); got {len(names)}: {names!r}"
            )
        text = ""
        for coefficient, name in [*zip(self.weights, names, strict=True), (self.bias, "")]:
            if coefficient == 0:
                continue
            magnitude = "" if name and abs(coefficient) == 1 else f"{abs(coefficient):g}"
            if name and "e" in magnitude:  # "1e-11 x1", not "1e-11x1" (which reads as e - 11 x1)
                magnitude += " "
            if text:
                text += f" {'-' if coefficient < 0 else '+'} {magnitude}{name}"
            else:
                text = f"{'-' if coefficient < 0 else ''}{magnitude}{name}"
        return f"u({text or '0'})"


GATES: dict[str, Neuron] = {
    "OR": Neuron((1.0, 1.0), -0.5),  # lecture: x1 v x2 = u(x1 + x2 - 0.5)
    "AND": Neuron((1.0, 1.0), -1.5),  # lecture: x1 ^ x2 = u(x1 + x2 - 1.5)
    "NOT": Neuron((-1.0,), 0.5),  # not x = u(0.5 - x)
    "NAND": Neuron((-1.0, -1.0), 1.5),  # not (x1 ^ x2) = u(1.5 - x1 - x2)
    "NOR": Neuron((-1.0, -1.0), 0.5),  # not (x1 v x2) = u(0.5 - x1 - x2)
}
"""The lecture's gates as single McCulloch-Pitts units."""


def gate(name: str) -> Neuron:
    """The unit computing gate ``name`` (OR, AND, NOT, NAND, NOR; any case)."""
    key = name.upper() if isinstance(name, str) else name
    if key == "XOR":
        raise ValidationError(
            "XOR is not a gate of one threshold unit: no weights compute it "
            "(separability(XOR_TABLE) proves it); hand_wired_xor() is the lecture's two-layer net"
        )
    if key not in GATES:
        raise ValidationError(f"unknown gate {name!r}; expected one of {', '.join(GATES)}")
    return GATES[key]


def gate_network(name: str) -> Network:
    """Gate ``name`` as an engine network with one ``step`` layer."""
    return gate(name).network()


def truth_table(unit: Neuron | Network) -> TruthTable:
    """The output of ``unit`` on every binary input, computed by the engine's forward pass
    for a :class:`~chainrule.engine.network.Network` (one output unit) or by the neuron itself.

    >>> truth_table(gate("AND"))
    {(0, 0): 0, (0, 1): 0, (1, 0): 0, (1, 1): 1}
    """
    if isinstance(unit, Neuron):
        inputs = binary_inputs(unit.n_inputs)
        outputs = [unit(x) for x in inputs]
    elif isinstance(unit, Network):
        if unit.sizes[-1] != 1:
            raise ValidationError(
                f"a truth table needs a network with one output unit; got {unit.sizes[-1]}"
            )
        inputs = binary_inputs(unit.sizes[0])
        values = unit.forward(inputs).ravel()
        # Only 0 and 1 are truth values: rounding a sigmoid's 0.8 down to 0 would be a wrong row.
        for x, v in zip(inputs, values, strict=True):
            if v not in (0, 1):
                raise ValidationError(
                    f"a truth table needs outputs 0 or 1 (a step output unit); the network's "
                    f"{unit.activations[-1]} output is {float(v):.6g} at x = "
                    f"{tuple(int(x_k) for x_k in x)}"
                )
        outputs = [int(v) for v in values]
    else:
        raise ValidationError(
            f"truth_table takes a Neuron or a Network; got {type(unit).__name__} "
            "(a dict is already a truth table: format it with format_truth_table)"
        )
    return {tuple(int(v) for v in x): y for x, y in zip(inputs, outputs, strict=True)}


def format_truth_table(table: TruthTable, output: str = "y") -> str:
    """A plain-text truth table, one row per input.

    >>> print(format_truth_table({(0,): 1, (1,): 0}))
    x1 | y
    ---+--
     0 | 1
     1 | 0
    """
    if not isinstance(table, dict) or not table:
        raise ValidationError(
            f"format_truth_table needs a non-empty dict {{(x1, ..., xD): y}}, such as "
            f"truth_table(gate('AND')) returns; got {table!r:.80}"
        )
    n = len(next(iter(table)))
    names = [f"x{i + 1}" for i in range(n)]  # x10 is wider than a digit: right-align under it
    header = " ".join(names) + f" | {output}"
    rows = [
        " ".join(f"{v:>{len(name)}}" for v, name in zip(x, names, strict=True)) + f" | {y}"
        for x, y in table.items()
    ]
    rule = "-" * (len(header) - len(output) - 2) + "+" + "-" * (len(output) + 1)
    return "\n".join([header, rule, *rows])

"""Can one threshold unit compute a truth table? Weights if it can, a proof if it cannot.

A unit ``y = u(w . x + b)`` computes a truth table exactly when its weights satisfy one
inequality per row (lecture, "... but not all")::

    w . x + b > 0     for every row with y = 1
    w . x + b <= 0    for every row with y = 0

By Motzkin's transposition theorem exactly one of two things is true: either these inequalities
have a solution (the table is linearly separable; :func:`separability` finds weights with the
perceptron rule, which terminates on separable data), or there are non-negative multipliers
``lambda_i``, not all zero on the strict rows, such that the weighted sum of the strict
inequalities and the weighted sum of the others are the *same* linear expression in
``(w, b)``. Then that expression is ``> 0`` and ``<= 0`` at once: ``0 < 0``, a contradiction that
no choice of weights escapes. For XOR::

    b <= 0,  w2 + b > 0,  w1 + b > 0,  w1 + w2 + b <= 0,   multipliers (1, 1, 1, 1):
    (w2 + b) + (w1 + b) = w1 + w2 + 2b > 0   and   b + (w1 + w2 + b) = w1 + w2 + 2b <= 0.

The multipliers form a :class:`Certificate` that :func:`verify_certificate` checks in exact
integer arithmetic, from the truth table alone.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import NDArray

from chainrule.errors import ChainruleError, ValidationError
from chainrule.logic.gates import Neuron, TruthTable

_MAX_INPUTS = 4
"""Certificates are searched over subsets of rows; 4 inputs (16 rows) keeps that instant."""

_MAX_PERCEPTRON_PASSES = 10_000


@dataclass(frozen=True)
class Inequality:
    """The condition one truth-table row puts on ``(w_1, ..., w_D, b)``.

    ``coefficients . (w, b) > 0`` when ``strict`` (the row's output is 1), else ``<= 0``.
    """

    x: tuple[int, ...]
    y: int
    coefficients: tuple[int, ...]
    strict: bool

    def expression(self) -> str:
        """The left-hand side, e.g. ``w1 + w2 + b``."""
        return linear_form(self.coefficients)

    def __str__(self) -> str:
        return f"{self.expression()} {'>' if self.strict else '<='} 0"


@dataclass(frozen=True)
class Certificate:
    """Non-negative multipliers of a truth table's inequalities that add up to ``0 < 0``.

    ``multipliers[i]`` scales ``inequalities[i]``. The strict inequalities with their multipliers
    add up to the same linear form as the non-strict ones, so that form would have to be both
    ``> 0`` and ``<= 0``.
    """

    inequalities: tuple[Inequality, ...]
    multipliers: tuple[int, ...]

    def combined_form(self) -> tuple[int, ...]:
        """The linear form (coefficients on ``w_1..w_D, b``) both sums equal."""
        n = len(self.inequalities[0].coefficients)
        return tuple(
            sum(
                m * ineq.coefficients[c]
                for m, ineq in zip(self.multipliers, self.inequalities, strict=True)
                if ineq.strict
            )
            for c in range(n)
        )

    def __str__(self) -> str:
        lines = ["no weights (w, b) satisfy all of:"]
        for m, ineq in zip(self.multipliers, self.inequalities, strict=True):
            row = f"x = {ineq.x} -> y = {ineq.y}"
            lines.append(f"  {ineq!s:<22} ({row}; multiplier {m})")
        used = [(m, i) for m, i in zip(self.multipliers, self.inequalities, strict=True) if m]
        form = linear_form(self.combined_form())
        more = " + ".join(_scaled(m, i.expression()) for m, i in used if i.strict)
        less = " + ".join(_scaled(m, i.expression()) for m, i in used if not i.strict)
        lines.append(f"  adding the strict ones:  {more} = {form} > 0")
        lines.append(f"  adding the others:       {less or '0'} = {form} <= 0")
        lines.append(f"  so {form} would be > 0 and <= 0 at once: 0 < 0, a contradiction")
        return "\n".join(lines)


@dataclass(frozen=True)
class Separability:
    """The answer of :func:`separability`: a separating unit, or a certificate that none exists."""

    separable: bool
    unit: Neuron | None
    certificate: Certificate | None

    def __str__(self) -> str:
        """The answer in words: the unit's weights, or the certificate's contradiction."""
        if self.unit is not None:
            return f"linearly separable: one threshold unit computes it, {self.unit.formula()}"
        return f"not linearly separable: {self.certificate}"


def linear_form(coefficients: tuple[int, ...]) -> str:
    """``(1, 1, 2)`` -> ``"w1 + w2 + 2b"``; the last coefficient multiplies ``b``."""
    names = [f"w{i + 1}" for i in range(len(coefficients) - 1)] + ["b"]
    text = ""
    for c, name in zip(coefficients, names, strict=True):
        if c == 0:
            continue
        term = name if abs(c) == 1 else f"{abs(c)}{name}"
        text += (f" {'-' if c < 0 else '+'} " if text else ("-" if c < 0 else "")) + term
    return text or "0"


def _scaled(multiplier: int, expression: str) -> str:
    return f"({expression})" if multiplier == 1 else f"{multiplier}({expression})"


def inequalities(table: TruthTable) -> tuple[Inequality, ...]:
    """The inequality each row of ``table`` puts on ``(w, b)``, in the table's order.

    >>> [str(i) for i in inequalities({(0, 0): 0, (0, 1): 1})]
    ['b <= 0', 'w2 + b > 0']
    """
    if not isinstance(table, dict) or not table:
        raise ValidationError(
            f"truth_table must be a non-empty dict {{(x1, ..., xD): 0 or 1}}; got {table!r}"
        )
    n = None
    rows = []
    for x, y in table.items():
        if not isinstance(x, tuple) or not x or any(v not in (0, 1) for v in x):
            raise ValidationError(f"truth_table key {x!r} is not a tuple of 0/1 inputs")
        if n is None:
            n = len(x)
        if len(x) != n:
            raise ValidationError(f"truth_table key {x!r} has {len(x)} inputs; expected {n}")
        if y not in (0, 1):
            raise ValidationError(f"truth_table[{x!r}] must be 0 or 1; got {y!r}")
        rows.append(Inequality(tuple(int(v) for v in x), int(y), (*map(int, x), 1), y == 1))
    return tuple(rows)


def verify_certificate(table: TruthTable, certificate: Certificate) -> bool:
    """True when ``certificate`` proves that no unit ``u(w . x + b)`` computes ``table``.

    Checked in exact integer arithmetic against inequalities rebuilt from ``table`` (so the
    certificate cannot misstate them): the multipliers are non-negative, some strict inequality
    has a positive multiplier, and the weighted strict inequalities minus the weighted
    non-strict ones is the zero form.
    """
    rows = inequalities(table)
    multipliers = certificate.multipliers
    if certificate.inequalities != rows or len(multipliers) != len(rows):
        return False
    if any(not isinstance(m, int) or m < 0 for m in multipliers):
        return False
    if not any(m > 0 for m, row in zip(multipliers, rows, strict=True) if row.strict):
        return False
    total = [0] * len(rows[0].coefficients)
    for m, row in zip(multipliers, rows, strict=True):
        sign = 1 if row.strict else -1
        for c, value in enumerate(row.coefficients):
            total[c] += sign * m * value
    return all(t == 0 for t in total)


def _signed_rows(rows: tuple[Inequality, ...]) -> NDArray[np.float64]:
    """``s_i (x_i, 1)`` with ``s_i = +1`` for a strict row and ``-1`` otherwise."""
    return np.array([[(1 if r.strict else -1) * c for c in r.coefficients] for r in rows], float)


def _integer_ray(vector: NDArray[np.float64]) -> tuple[int, ...]:
    """The smallest integer vector along a (rational) positive vector."""
    fractions = [Fraction(float(v / vector.max())).limit_denominator(10**6) for v in vector]
    scale = math.lcm(*(f.denominator for f in fractions))
    integers = [int(f * scale) for f in fractions]
    divisor = math.gcd(*integers)
    return tuple(i // divisor for i in integers)


def find_certificate(table: TruthTable) -> Certificate | None:
    """A certificate that no threshold unit computes ``table``, or None if one does.

    Searches the extreme rays of the cone ``{lambda >= 0 : sum_i lambda_i s_i (x_i, 1) = 0}``:
    each has a minimal support of at most ``D + 2`` rows whose signed vectors have a one-dimensional
    null space. If any certificate exists, one of these rays is one (Motzkin), so the search is
    complete.
    """
    rows = inequalities(table)
    n_inputs = len(rows[0].x)
    if n_inputs > _MAX_INPUTS:
        raise ValidationError(f"separability handles up to {_MAX_INPUTS} inputs; got {n_inputs}")
    signed = _signed_rows(rows)
    for size in range(2, min(len(rows), n_inputs + 2) + 1):
        for support in itertools.combinations(range(len(rows)), size):
            if not any(rows[i].strict for i in support):
                continue
            _, singular, vt = np.linalg.svd(signed[list(support)].T)
            rank = int(np.sum(singular > 1e-9))
            if size - rank != 1:
                continue
            ray = vt[-1] if vt[-1].sum() > 0 else -vt[-1]
            if not np.all(ray > 1e-9):
                continue
            multipliers = [0] * len(rows)
            for i, m in zip(support, _integer_ray(ray), strict=True):
                multipliers[i] = m
            certificate = Certificate(rows, tuple(multipliers))
            if verify_certificate(table, certificate):
                return certificate
    return None


def perceptron(table: TruthTable, max_passes: int = _MAX_PERCEPTRON_PASSES) -> Neuron | None:
    """Weights of a unit computing ``table`` by Rosenblatt's perceptron rule, or None.

    Starting from ``w = 0, b = 0``, each misclassified row moves the weights towards it
    (``w += x, b += 1`` for a missed 1; ``w -= x, b -= 1`` for a false 1). On a separable table this
    stops after finitely many corrections (the perceptron convergence theorem); None means it
    had not stopped after ``max_passes`` passes over the rows.
    """
    rows = inequalities(table)
    # Integer arithmetic: the inputs are 0/1, so every weight stays a small whole number.
    w = [0] * len(rows[0].x)
    b = 0
    for _ in range(max_passes):
        mistakes = 0
        for row in rows:
            fires = sum(w_k * x_k for w_k, x_k in zip(w, row.x, strict=True)) + b > 0
            if fires != row.strict:
                step = 1 if row.strict else -1
                w = [w_k + step * x_k for w_k, x_k in zip(w, row.x, strict=True)]
                b += step
                mistakes += 1
        if mistakes == 0:
            return Neuron(tuple(float(w_k) for w_k in w), float(b))
    return None


def separability(table: TruthTable) -> Separability:
    """Decide whether one unit ``u(w . x + b)`` computes ``table``.

    Returns the unit when one does, else a :class:`Certificate` proving that none can. A short
    perceptron run settles most separable tables; otherwise the certificate search decides, and
    when it finds none the table is separable (Motzkin) and the perceptron runs to convergence.

    >>> separability({(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 1}).separable   # OR
    True
    >>> xor = separability({(0, 0): 0, (0, 1): 1, (1, 0): 1, (1, 1): 0})
    >>> xor.separable, xor.certificate.multipliers
    (False, (1, 1, 1, 1))
    """
    unit = perceptron(table, max_passes=50)
    if unit is None:
        certificate = find_certificate(table)
        if certificate is not None:
            return Separability(False, None, certificate)
        unit = perceptron(table)
    if unit is None:  # cannot happen: no certificate means separable, and then it converges
        raise ChainruleError("the perceptron did not converge on a separable truth table")
    return Separability(True, unit, None)

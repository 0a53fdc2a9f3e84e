"""Check back-propagation against central finite differences, layer by layer.

For every weight ``w_jk^(l)`` (or a random sample of them in large layers)::

    dL/dw ~ (L(w + eps) - L(w - eps)) / (2 eps)

and compare with the ``dL/dW^(l)`` that back-propagation computed. The check runs on a float64
copy of the network (float32 differences carry too little precision to mean anything); the
network passed in is never modified.
"""

from __future__ import annotations

import json
import numbers
from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike

from chainrule.engine.explain import first_index
from chainrule.engine.init import Seed, as_generator
from chainrule.engine.losses import Loss
from chainrule.engine.network import Network
from chainrule.engine.schedules import positive_number, whole_number
from chainrule.errors import ValidationError


@dataclass(frozen=True)
class LayerCheck:
    """The comparison for one layer ``l``: worst absolute and relative errors over its weights."""

    layer: int
    shape: tuple[int, int]
    checked: int
    max_abs_error: float
    max_rel_error: float
    worst_entry: tuple[int, int]
    """``(j, k)`` of the entry with the largest absolute error, 0-based row and column."""
    passed: bool
    first_j: int = 1
    """The number of ``W^(l)``'s first row ``j`` in the lecture's notation, as
    :mod:`~chainrule.engine.explain` numbers it: 0 for a softmax layer, else 1."""
    first_k: int = 1
    """The number of its first column ``k``: 0 below a softmax layer, else 1."""


@dataclass(frozen=True)
class GradcheckReport:
    """Per-layer results of :func:`gradcheck`; ``passed`` when every layer passed."""

    loss: str
    eps: float
    rtol: float
    atol: float
    layers: list[LayerCheck]
    rounding: float = 0.0
    """The allowance for the central difference's own rounding error, ``10 u |L| / eps``: the
    report names it, so that a passing entry whose relative error exceeds ``rtol`` is
    explained rather than a puzzle."""

    @property
    def passed(self) -> bool:
        return all(layer.passed for layer in self.layers)

    @property
    def max_abs_error(self) -> float:
        return max(layer.max_abs_error for layer in self.layers)

    @property
    def max_rel_error(self) -> float:
        return max(layer.max_rel_error for layer in self.layers)

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "passed": self.passed}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def __str__(self) -> str:
        lines = [
            f"gradient check: central differences (eps={self.eps:g}) vs back-propagation, "
            f"loss {self.loss}",
            f"{'layer':>5}  {'W shape':>10}  {'checked':>7}  {'max abs err':>11}  "
            f"{'max rel err':>11}  {'worst w_jk':>10}  result",
        ]
        for c in self.layers:
            lines.append(
                f"{c.layer:>5}  {f'{c.shape[0]}x{c.shape[1]}':>10}  {c.checked:>7}  "
                f"{c.max_abs_error:>11.3e}  {c.max_rel_error:>11.3e}  "
                f"{f'({c.worst_entry[0] + c.first_j},{c.worst_entry[1] + c.first_k})':>10}  "
                f"{'ok' if c.passed else 'FAIL'}"
            )
        verdict, test = ("PASSED", "every") if self.passed else ("FAILED", "not every")
        lines.append(
            f"{verdict} (rtol={self.rtol:g}, atol={self.atol:g}): {test} weight has "
            "|backprop - numeric| <= atol + rtol |numeric| + rounding"
        )
        lines.append(
            f"(rounding = 10 u |L| / eps = {self.rounding:.3g}, the finite difference's own "
            "rounding error; u is float64's machine epsilon)"
        )
        lines.append(
            "(w_jk numbered as in chainrule explain: j from 1, a softmax layer's from 0 like "
            "its classes; the last k is the constant 1)"
        )
        return "\n".join(lines)


def gradcheck(
    net: Network,
    X: ArrayLike,
    y: ArrayLike,
    loss: str | Loss | None = None,
    *,
    eps: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    max_checks_per_layer: int | None = 200,
    seed: Seed = 0,
) -> GradcheckReport:
    """Compare back-propagation's ``dL/dW^(l)`` with central finite differences.

    An entry passes when ``|analytic - numeric| <= atol + rtol * |numeric| + 10 u |L| / eps``.
    The last term is the rounding error of the central difference itself (``u`` is float64's
    machine epsilon): each loss is computed to about ``u |L|``, and the difference divides that
    by ``2 eps``, so with a large loss (an unscaled regression target, say) a correct gradient
    would otherwise fail. Layers with more than
    ``max_checks_per_layer`` weights are checked on a seeded random sample of that many entries
    (``None`` checks all). Relative errors are ``|a - n| / max(|a|, |n|, atol)``.
    """
    if isinstance(eps, bool) or not isinstance(eps, numbers.Real) or not 0 < float(eps) < 1:
        raise ValidationError(f"eps must be in (0, 1); got {eps!r}")
    eps = float(eps)
    rtol = positive_number("rtol", rtol, allow_zero=True)
    atol = positive_number("atol", atol, allow_zero=True)
    if max_checks_per_layer is not None:
        max_checks_per_layer = whole_number("max_checks_per_layer (or None)", max_checks_per_layer)
    net64 = Network.from_weights(
        net.weights, net.activation_functions, dtype=np.float64, loss=net.loss
    )
    loss_fn = net64._resolve_loss(loss)
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):  # refused below, by name
        analytic_loss, analytic = net64.loss_and_gradients(X, y, loss_fn)
    finite_gradients = all(bool(np.isfinite(g).all()) for g in analytic)
    if not (np.isfinite(analytic_loss) and finite_gradients):
        # L(w + eps) - L(w - eps) of an infinite loss is NaN: every entry would "fail" with
        # no error to show
        raise ValidationError(
            f"the loss at these weights is {analytic_loss:g} and back-propagation's gradients "
            f"are {'finite' if finite_gradients else 'not all finite'}: finite differences "
            "need both finite; standardise the inputs or start from smaller weights"
        )
    h0 = net64.check_inputs(X)
    targets = net64.check_targets(y, len(h0), loss_fn)
    rng = as_generator(seed)
    roundoff = 10 * float(np.finfo(np.float64).eps) * abs(analytic_loss) / eps

    def loss_at() -> float:
        with np.errstate(under="ignore"):
            net64.propagate(h0)
            return net64.output_loss(targets, loss_fn)

    checks = []
    names: list[str | None] = [None, *net64.activations]  # h^(0) = x, then layers 1..L
    for l, (W, dL_dW) in enumerate(zip(net64.weights, analytic, strict=True), start=1):
        flat = np.arange(W.size)
        if max_checks_per_layer is not None and W.size > max_checks_per_layer:
            flat = np.sort(rng.choice(W.size, size=max_checks_per_layer, replace=False))
        worst_abs, worst_rel, worst_at, passed = 0.0, 0.0, (0, 0), True
        for index in flat:
            j, k = divmod(int(index), W.shape[1])
            saved = W[j, k]
            W[j, k] = saved + eps
            loss_plus = loss_at()
            W[j, k] = saved - eps
            loss_minus = loss_at()
            W[j, k] = saved
            numeric = (loss_plus - loss_minus) / (2 * eps)
            a = float(dL_dW[j, k])
            abs_error = abs(a - numeric)
            rel_error = abs_error / max(abs(a), abs(numeric), atol)
            passed &= abs_error <= atol + rtol * abs(numeric) + roundoff
            if abs_error >= worst_abs:
                worst_abs, worst_at = abs_error, (j, k)
            worst_rel = max(worst_rel, rel_error)
        checks.append(
            LayerCheck(
                l,
                (int(W.shape[0]), int(W.shape[1])),
                len(flat),
                worst_abs,
                worst_rel,
                worst_at,
                bool(passed),
                first_index(names[l]),
                first_index(names[l - 1]),
            )
        )
    return GradcheckReport(loss_fn.name, eps, rtol, atol, checks, roundoff)

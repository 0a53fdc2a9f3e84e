"""Render a :class:`~chainrule.engine.trace.Trace` in the lecture's notation.

Layers are numbered ``l = 1..L`` and neurons as the lecture numbers them (one rule,
:func:`first_index`, used everywhere, :mod:`~chainrule.engine.gradcheck`'s report included):

* a softmax layer's neurons count from 0, like the classes they stand for: ``h_0^(L) = P(Y = 0|x)``,
  ``h_1^(L) = P(Y = 1|x)``, so the loss ``L = -ln h_y^(L)`` reads off output neuron ``j = y``;
* every other layer's neurons (the input ``h^(0) = x`` included) count from 1, ``j = 1..n_l``,
  and the constant 1 is input ``n + 1``, as in the lecture's ``h_1^(0) = x, h_2^(0) = 1``.

In a weight matrix ``w_jk^(l)``, ``j`` follows layer ``l``'s numbering and ``k`` layer ``l-1``'s:
the constant-1 column is ``k = n_{l-1} + 1`` below a layer counted from 1 and ``k = n_{l-1}``
below a softmax layer. :func:`to_dict` and :func:`to_json` keep plain 0-based arrays.

Three renderings of the same recorded numbers:

* :func:`to_text`: a terminal table per layer (``e_j``, ``h_j``, ``dL/dh_j``, ``dL/de_j``, then
  the matrices ``w_jk``, ``dL/dw_jk`` and ``w_jk - eta dL/dw_jk``);
* :func:`to_markdown`: Markdown with LaTeX, every equation written out with its numbers;
* :func:`to_json` / :func:`to_dict`: every array as nested lists at full precision, with the
  notation's name for each field.

Nothing here computes the network's mathematics: every value comes from the trace, which
recorded it from the real forward and backward pass. The one exception is ``g'(e)`` shown in the
Markdown chain rule, which is the engine's own :meth:`Activation.g_prime` applied to the recorded
``e`` and ``h``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chainrule.engine.activations import get_activation
from chainrule.engine.losses import LOSSES
from chainrule.engine.trace import LayerTrace, Trace

Array = NDArray[np.floating]

NOTATION: dict[str, str] = {
    "x": "x = h^(0), one row per token",
    "y": "target y (class index for cross-entropy)",
    "W": "w_jk^(l): W^(l), shape (n_l, n_{l-1} + 1), last column multiplies the constant 1",
    "h_prev": "h_k^(l-1)",
    "e": "e_j^(l) = sum_k w_jk^(l) h_k^(l-1)",
    "h": "h_j^(l) = g^(l)(e_j^(l))",
    "dL_dh": "dL/dh_j^(l)",
    "dL_de": "dL/de_j^(l) = dL/dh_j^(l) g^(l)'(e_j^(l))",
    "dL_dW": "dL/dw_jk^(l) = dL/de_j^(l) h_k^(l-1), summed over the tokens (dL/de has the 1/n)",
    "W_updated": "w_jk^(l) - eta dL/dw_jk^(l)",
    "loss": "L, the mean loss over the tokens",
    "learning_rate": "eta",
}
"""The lecture's name for each field of a trace, as :func:`to_json` reports them."""

_LATEX_G = {
    "step": r"u",
    "identity": r"\mathrm{id}",
    "sigmoid": r"\sigma",
    "tanh": r"\tanh",
    "relu": r"\mathrm{ReLU}",
    "leaky_relu": r"\mathrm{LeakyReLU}",
    "softmax": r"\mathrm{softmax}",
}


def first_index(activation: str | None) -> int:
    """The number of a layer's first neuron: 0 for softmax (neuron ``j`` is class ``j``), else 1.

    ``activation`` is ``None`` for the input layer ``h^(0) = x``, which counts from 1.
    """
    return 0 if activation == "softmax" else 1


def _base(layer: LayerTrace) -> int:
    """:func:`first_index` of a layer's own neurons ``j``."""
    return first_index(layer.activation)


def _below_base(trace: Trace, layer: LayerTrace) -> int:
    """:func:`first_index` of the layer below, whose neurons are this layer's inputs ``k``."""
    return first_index(trace.layers[layer.l - 2].activation if layer.l > 1 else None)


def _num(value: float) -> str:
    """A number to 6 significant digits, without a sign on zero."""
    text = f"{float(value):.6g}"
    return "0" if text in ("-0", "0") else text


def format_vector(values: Sequence[float] | Array) -> str:
    """``[v_1, ..., v_n]`` with each number as the renderings write it (6 significant digits)."""
    return "[" + ", ".join(_num(v) for v in np.asarray(values).ravel()) + "]"


def _augmented(layer: LayerTrace, t: int) -> list[float]:
    """``h^(l-1)`` of token ``t`` with the constant 1 appended (the last input ``k``)."""
    return [*(float(v) for v in layer.h_prev[t]), 1.0]


def _n_tokens(trace: Trace) -> int:
    return int(trace.x.shape[0])


def _header_lines(trace: Trace) -> list[str]:
    n = _n_tokens(trace)
    L = len(trace.layers)
    lines = [
        f"Trace of {n} token{'s' if n > 1 else ''} through L = {L} layer{'s' if L > 1 else ''}"
        + (
            f", loss {trace.loss_name}, eta = {_num(trace.learning_rate)}"
            if trace.loss_name
            else ""
        )
    ]
    for t in range(n):
        prefix = f"token {t + 1}: " if n > 1 else ""
        target = (
            f"   target y = {_target(trace, t)}{_class_neuron(trace, t)}"
            if trace.y is not None
            else ""
        )
        lines.append(
            f"{prefix}x = h^(0) = {format_vector(trace.x[t])}   "
            f"(with the constant 1: {format_vector([*trace.x[t], 1.0])}){target}"
        )
    if trace.loss is not None:
        lines.append(f"L = {_num(trace.loss)}" + (f" (mean over {n} tokens)" if n > 1 else ""))
    else:
        lines.append("no target: forward pass only")
    return lines


def _target(trace: Trace, t: int) -> str:
    assert trace.y is not None
    value = trace.y[t]
    return format_vector(value) if np.ndim(value) else str(int(value))


def _class_neuron(trace: Trace, t: int) -> str:
    """For a class target, which output neuron it is; nothing when that is ``j = y`` (softmax)."""
    if trace.y is None or np.ndim(trace.y[t]) or trace.loss_name != "cross_entropy":
        return ""
    j = int(trace.y[t]) + _base(trace.layers[-1])
    return "" if j == int(trace.y[t]) else f" (output neuron j = {j})"


def _table(header: list[str], rows: list[list[str]], width: int = 13) -> list[str]:
    """Right-aligned columns of at least ``width`` characters, each wider than its longest cell
    so that no two cells touch (``-2.04304e+307`` is 13 characters)."""
    widths = [
        max(width, 1 + max(len(cell) for cell in column))
        for column in zip(header, *rows, strict=True)
    ]
    return [
        "".join(f"{cell:>{w}}" for cell, w in zip(line, widths, strict=True))
        for line in (header, *rows)
    ]


def _matrix_lines(title: str, matrix: Array, j0: int, k0: int) -> list[str]:
    """A matrix ``w_jk`` with rows ``j`` numbered from ``j0`` and columns ``k`` from ``k0``."""
    n_in = matrix.shape[1] - 1
    header = ["j", *(f"k={k + k0}" for k in range(n_in)), f"k={n_in + k0} (1)"]
    rows = [[str(j + j0), *(_num(v) for v in row)] for j, row in enumerate(matrix)]
    return [f"  {title}", *(f"  {line}" for line in _table(header, rows))]


def to_text(trace: Trace) -> str:
    """A terminal rendering: per layer, a table of neurons ``j`` and the weight matrices.

    Each layer shows ``e_j^(l)``, ``h_j^(l)``, ``dL/dh_j^(l)`` and ``dL/de_j^(l)`` (one row per
    neuron, and per token for a batch), then ``w_jk^(l)``, ``dL/dw_jk^(l)`` and the updated
    weights ``w_jk^(l) - eta dL/dw_jk^(l)``. Numbers have 6 significant digits.
    """
    lines = _header_lines(trace)
    n = _n_tokens(trace)
    backward = trace.loss is not None
    for layer in trace.layers:
        l = layer.l
        j0, k0 = _base(layer), _below_base(trace, layer)
        lines += [
            "",
            f"layer l = {l} ({layer.activation}): e^({l}) = W^({l}) [h^({l - 1}); 1],  "
            f"h^({l}) = {layer.activation}(e^({l}))",
        ]
        header = [f"e_j^({l})", f"h_j^({l})"]
        if backward:
            header += [f"dL/dh_j^({l})", f"dL/de_j^({l})"]
        header = (["token"] if n > 1 else []) + ["j", *header]
        rows = []
        for t in range(n):
            for j in range(layer.e.shape[1]):
                row = [_num(layer.e[t, j]), _num(layer.h[t, j])]
                if backward:
                    assert layer.dL_dh is not None and layer.dL_de is not None
                    row += [_num(layer.dL_dh[t, j]), _num(layer.dL_de[t, j])]
                rows.append(([str(t + 1)] if n > 1 else []) + [str(j + j0), *row])
        lines += [f"  {line}" for line in _table(header, rows)]
        one = layer.W.shape[1] - 1 + k0
        lines += _matrix_lines(
            f"w_jk^({l}) (k = {one} is the weight on the constant 1):", layer.W, j0, k0
        )
        if backward:
            assert layer.dL_dW is not None and layer.W_updated is not None
            # For a batch, dL/dw is the sum over the tokens (each dL/de already carries the
            # 1/n of the mean loss): no single token's product is the number shown.
            over_tokens = "" if n == 1 else f", summed over the {n} tokens"
            lines += _matrix_lines(
                f"dL/dw_jk^({l}) = dL/de_j^({l}) h_k^({l - 1}){over_tokens}:",
                layer.dL_dW,
                j0,
                k0,
            )
            lines += _matrix_lines(
                f"updated w_jk^({l}) - eta dL/dw_jk^({l}), eta = {_num(trace.learning_rate)}:",
                layer.W_updated,
                j0,
                k0,
            )
    L = len(trace.layers)
    lines += ["", f"output h^({L}) = " + "; ".join(format_vector(row) for row in trace.output)]
    return "\n".join(lines)


# -- Markdown ---------------------------------------------------------------------------------


def _tex_num(value: float) -> str:
    text = _num(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def _product(a: float, b: float) -> str:
    return f"({_tex_num(a)})({_tex_num(b)})"


def _subtrahend(value: float) -> str:
    """A number written after a minus sign: ``(-0.3)`` in brackets, so that ``h - y`` reads
    ``0.65 - (-0.3)`` and never ``0.65 - -0.3``."""
    text = _tex_num(value)
    return f"({text})" if text.startswith("-") else text


def _bmatrix(matrix: Array) -> str:
    rows = [" & ".join(_tex_num(v) for v in row) for row in matrix]
    return r"\begin{bmatrix} " + r" \\ ".join(rows) + r" \end{bmatrix}"


def _d(name: str) -> str:
    return rf"\frac{{d\mathcal{{L}}}}{{d{name}}}"


def _token_heading(n: int, t: int) -> list[str]:
    return [f"*Token {t + 1}:*", ""] if n > 1 else []


def _forward_markdown(trace: Trace) -> list[str]:
    n = _n_tokens(trace)
    lines: list[str] = []
    for layer in trace.layers:
        l = layer.l
        g = _LATEX_G.get(layer.activation, rf"\mathrm{{{layer.activation}}}")
        j0 = _base(layer)
        lines += [f"### Layer {l}: {layer.activation}", ""]
        for t in range(n):
            lines += _token_heading(n, t)
            h_prev = _augmented(layer, t)
            for j in range(layer.e.shape[1]):
                terms = " + ".join(_product(w, h) for w, h in zip(layer.W[j], h_prev, strict=True))
                lines.append(
                    f"$$e_{{{j + j0}}}^{{({l})}} = \\sum_k w_{{{j + j0}k}}^{{({l})}} "
                    f"h_k^{{({l - 1})}} = {terms} = {_tex_num(layer.e[t, j])}$$"
                )
            for j in range(layer.e.shape[1]):
                if layer.activation == "softmax":  # h_j depends on every e_k
                    rhs = rf"{g}(e^{{({l})}})_{{{j + j0}}}"
                else:
                    rhs = rf"{g}(e_{{{j + j0}}}^{{({l})}})"
                lines.append(f"$$h_{{{j + j0}}}^{{({l})}} = {rhs} = {_tex_num(layer.h[t, j])}$$")
            lines.append("")
    return lines


def _output_dL_dh_markdown(trace: Trace, layer: LayerTrace, t: int) -> list[str]:
    assert layer.dL_dh is not None
    l, j0 = layer.l, _base(layer)
    return [
        f"$${_d(f'h_{{{j + j0}}}^{{({l})}}')} = {_tex_num(layer.dL_dh[t, j])}$$"
        for j in range(layer.e.shape[1])
    ]


def _hidden_dL_dh_markdown(layer: LayerTrace, above: LayerTrace, t: int) -> list[str]:
    assert layer.dL_dh is not None and above.dL_de is not None
    l, j0 = layer.l, _base(layer)
    lines = []
    for j in range(layer.e.shape[1]):
        terms = " + ".join(
            _product(above.W[k, j], above.dL_de[t, k]) for k in range(above.W.shape[0])
        )
        lines.append(
            f"$${_d(f'h_{{{j + j0}}}^{{({l})}}')} = \\sum_k w_{{k{j + j0}}}^{{({l + 1})}} "
            f"{_d(f'e_k^{{({l + 1})}}')} = {terms} = {_tex_num(layer.dL_dh[t, j])}$$"
        )
    return lines


def _registered_shortcut(trace: Trace, output: LayerTrace) -> bool:
    """Whether the output's ``dL/de`` came from a registered loss's shortcut (softmax + cross
    entropy: ``h - onehot(y)``), whose formula the Markdown writes out. A loss of the user's own
    is in no registry (looking it up by name raised "unknown loss"), and its shortcut is not
    known here: its ``dL/de`` is shown as the chain rule gives it, ``dL/dh g'(e)``."""
    registered = LOSSES.get(trace.loss_name or "")
    if registered is None:
        return False
    loss = trace.loss_function or registered
    return type(loss) is type(registered) and loss.pairs_with == output.activation


def _dL_de_markdown(trace: Trace, layer: LayerTrace, t: int, is_output: bool) -> list[str]:
    assert layer.dL_dh is not None and layer.dL_de is not None
    l, j0 = layer.l, _base(layer)
    n = _n_tokens(trace)
    # the traced layer's own g (a leaky ReLU's slope), not the registry's under its name
    activation = layer.activation_function or get_activation(layer.activation)
    lines = []
    paired = is_output and _registered_shortcut(trace, layer)
    g_prime = (
        activation.g_prime(layer.e[t : t + 1], layer.h[t : t + 1])[0]
        if activation.elementwise and not paired
        else None
    )
    k = layer.e.shape[1]
    # The paired losses' shortcuts (losses.py), with the 1/n of the batch mean written out.
    scale = {
        "cross_entropy": "" if n == 1 else rf"\frac{{1}}{{{n}}}",
        "binary_cross_entropy": "" if n == 1 else rf"\frac{{1}}{{{n}}}",
        "mse": rf"\frac{{2}}{{{n * k}}}",
    }.get(trace.loss_name or "", "")
    for j in range(k):
        name = _d(f"e_{{{j + j0}}}^{{({l})}}")
        value = _tex_num(layer.dL_de[t, j])
        h_j = f"h_{{{j + j0}}}^{{({l})}}"
        if paired:
            assert trace.y is not None
            if trace.loss_name == "cross_entropy":
                target, target_value = f"[y = {j}]", str(int(int(trace.y[t]) == j))
            else:
                target, target_value = f"y_{{{j + j0}}}", _subtrahend(trace.y[t][j])
            lines.append(
                f"$${name} = {scale}\\left({h_j} - {target}\\right) = "
                f"{scale}({_tex_num(layer.h[t, j])} - {target_value}) = {value}$$"
            )
        elif g_prime is not None:
            lines.append(
                f"$${name} = {_d(f'h_{{{j + j0}}}^{{({l})}}')} g'(e_{{{j + j0}}}^{{({l})}}) = "
                f"{_product(layer.dL_dh[t, j], g_prime[j])} = {value}$$"
            )
        else:  # softmax without its paired loss: the Jacobian-vector product
            lines.append(
                f"$${name} = h_{{{j + j0}}}^{{({l})}}\\left({_d(f'h_{{{j + j0}}}^{{({l})}}')}"
                f" - \\sum_k {_d(f'h_k^{{({l})}}')} h_k^{{({l})}}\\right) = {value}$$"
            )
    return lines


def _backward_markdown(trace: Trace) -> list[str]:
    n = _n_tokens(trace)
    L = len(trace.layers)
    lines = [
        "## Back-propagation",
        "",
        r"$$\frac{d\mathcal{L}}{dh_k^{(l)}} = \sum_j w_{jk}^{(l+1)} "
        r"\frac{d\mathcal{L}}{de_j^{(l+1)}}, \qquad "
        r"\frac{d\mathcal{L}}{de_k^{(l)}} = \frac{d\mathcal{L}}{dh_k^{(l)}} g^{(l)\prime}"
        r"(e_k^{(l)}), \qquad "
        r"\frac{d\mathcal{L}}{dw_{jk}^{(l)}} = \frac{d\mathcal{L}}{de_j^{(l)}} h_k^{(l-1)}$$",
        "",
    ]
    eta = _tex_num(trace.learning_rate)
    for index in range(L - 1, -1, -1):
        layer = trace.layers[index]
        l = layer.l
        assert layer.dL_dW is not None and layer.W_updated is not None
        lines += [f"### Layer {l}", ""]
        for t in range(n):
            lines += _token_heading(n, t)
            if index == L - 1:
                lines += _output_dL_dh_markdown(trace, layer, t)
            else:
                lines += _hidden_dL_dh_markdown(layer, trace.layers[index + 1], t)
            lines += _dL_de_markdown(trace, layer, t, is_output=index == L - 1)
            lines.append("")
        how = (
            rf"{_d(f'e_j^{{({l})}}')} h_k^{{({l - 1})}}"
            if n == 1
            else rf"\sum_{{t=1}}^{{{n}}} {_d(f'e_j^{{({l})}}')}[t]\, h_k^{{({l - 1})}}[t]"
        )
        lines += [
            f"$${_d(f'w_{{jk}}^{{({l})}}')} = {how}: \\quad "
            f"{_d(f'W^{{({l})}}')} = {_bmatrix(layer.dL_dW)}$$",
            "",
            f"$$W^{{({l})}} - \\eta {_d(f'W^{{({l})}}')} = {_bmatrix(layer.W)} - {eta} "
            f"{_bmatrix(layer.dL_dW)} = {_bmatrix(layer.W_updated)}$$",
            "",
        ]
    return lines


def to_markdown(trace: Trace) -> str:
    """Markdown with LaTeX: every equation of the forward and backward pass, with its numbers.

    For example ``$$e_1^{(1)} = \\sum_k w_{1k}^{(1)} h_k^{(0)} = (1)(1.5) + (0)(1) = 1.5$$``.
    """
    n = _n_tokens(trace)
    lines = ["# Forward and backward pass, in the lecture's notation", ""]
    for t in range(n):
        h0 = ", ".join(_tex_num(v) for v in [*trace.x[t], 1.0])
        target = (
            f", target $y = {_target(trace, t)}${_class_neuron(trace, t)}"
            if trace.y is not None
            else ""
        )
        token = f"Token {t + 1}" if n > 1 else "Token"
        lines.append(f"{token}: $h^{{(0)}} = [{h0}]$ (the input, then the constant 1){target}.")
        lines.append("")
    lines += ["## Forward propagation", ""]
    lines += _forward_markdown(trace)
    L = len(trace.layers)
    j0 = _base(trace.layers[-1])
    output = "; ".join(
        ", ".join(
            f"h_{{{k + j0}}}^{{({L})}} = P(Y = {k} | x) = {_tex_num(p)}" for k, p in enumerate(row)
        )
        for row in trace.output
    )
    if trace.layers[-1].activation == "softmax":
        lines += [f"Output $h^{{({L})}}$: ${output}$.", ""]
    if trace.loss is None:
        lines += ["No target given: forward pass only.", ""]
        return "\n".join(lines)
    mean = "" if n == 1 else f" (mean over {n} tokens)"
    lines += [
        f"Loss ({trace.loss_name}){mean}: $\\mathcal{{L}} = {_tex_num(trace.loss)}$, "
        f"step size $\\eta = {_tex_num(trace.learning_rate)}$.",
        "",
    ]
    lines += _backward_markdown(trace)
    return "\n".join(lines)


# -- JSON -------------------------------------------------------------------------------------


def _listed(array: NDArray[Any] | None) -> Any:
    return None if array is None else np.asarray(array).tolist()


def to_dict(trace: Trace) -> dict[str, Any]:
    """The trace as plain Python: nested lists at full precision, plus the notation."""
    return {
        "notation": NOTATION,
        "layers_numbered": "l = 1..L; in arrays, j indexes rows and k columns, from 0",
        "x": _listed(trace.x),
        "y": _listed(trace.y),
        "loss_name": trace.loss_name,
        "loss": trace.loss,
        "learning_rate": trace.learning_rate,
        "output": _listed(trace.output),
        "layers": [
            {
                "l": layer.l,
                "activation": layer.activation,
                **{
                    name: _listed(getattr(layer, name))
                    for name in ("W", "h_prev", "e", "h", "dL_dh", "dL_de", "dL_dW", "W_updated")
                },
            }
            for layer in trace.layers
        ],
    }


def to_json(trace: Trace, indent: int | None = 2) -> str:
    """:func:`to_dict` as JSON text (floats written with ``repr``: they read back exactly)."""
    return json.dumps(to_dict(trace), indent=indent)

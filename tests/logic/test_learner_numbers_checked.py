"""What a learner reads, checked against numbers computed here from the lecture's formulas.

Every reference below is our own float64 numpy (``e = W [h; 1]``, ``h = g(e)``, the chain rule),
never a number copied from the code under test. Each test pins one defect found in review:
renderings that mislabelled a number, printed it ambiguously, or CLI messages that did not
name the option the learner typed.
"""

from __future__ import annotations

import io
import re
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from chainrule.engine import explain
from chainrule.engine.gradcheck import gradcheck
from chainrule.engine.network import Network
from chainrule.engine.trace import trace
from cli_helpers import chainrule

W1 = np.array([[0.5, -1.0, 0.25], [1.5, 0.5, -0.5]])  # 2 tanh units; last column: the bias
W2 = np.array([[1.0, -2.0, 0.5], [-0.5, 1.0, 0.0]])  # 2 identity outputs


def _forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``h^(1) = tanh(W1 [x; 1])`` and ``h^(2) = W2 [h^(1); 1]`` for rows ``x``, by hand."""
    ones = np.ones((len(x), 1))
    h1 = np.tanh(np.hstack([x, ones]) @ W1.T)
    return h1, np.hstack([h1, ones]) @ W2.T


def _net() -> Network:
    return Network.from_weights([W1, W2], ["tanh", "identity"], dtype=np.float64)


def test_markdown_writes_a_negative_target_in_brackets_not_after_a_second_minus() -> None:
    """``dL/de_j = (2 / k)(h_j - y_j)`` with ``y_2 = -0.3`` read ``(0.51 - -0.3)``."""
    x, y = np.array([[0.4, -1.2]]), np.array([[0.5, -0.3]])
    _, h2 = _forward(x)
    md = explain.to_markdown(trace(_net(), x, y, loss="mse"))
    assert " - -" not in md
    dL_de_2 = 2 / 2 * (h2[0, 1] - y[0, 1])  # mean over the 2 outputs of (h - y)^2
    line = next(
        ln for ln in md.splitlines() if ln.startswith(r"$$\frac{d\mathcal{L}}{de_{2}^{(2)}}")
    )
    assert f"({h2[0, 1]:.6g} - (-0.3)) = {dL_de_2:.6g}$$" in line


def test_text_says_a_batch_dL_dw_is_the_sum_over_its_tokens() -> None:
    """The text table titled a batch's ``dL/dw_jk`` as one token's ``dL/de_j h_k``."""
    x = np.array([[0.4, -1.2], [1.0, 0.3]])
    y = np.array([[0.5, -0.3], [0.0, 1.0]])
    h1, h2 = _forward(x)
    n, k = y.shape
    dL_de2 = 2 / (n * k) * (h2 - y)  # mse: mean over tokens and outputs
    dL_dW2 = dL_de2.T @ np.hstack([h1, np.ones((n, 1))])  # summed over the tokens
    text = explain.to_text(trace(_net(), x, y, loss="mse"))
    title = "dL/dw_jk^(2) = dL/de_j^(2) h_k^(1), summed over the 2 tokens:"
    assert title in text
    rows = text.split(title)[1].splitlines()[2:4]
    shown = np.array([[float(v) for v in row.split()[1:]] for row in rows])
    np.testing.assert_allclose(shown, dL_dW2, rtol=1e-5)
    assert (
        "summed over the tokens"
        in explain.to_dict(trace(_net(), x, y, loss="mse"))["notation"]["dL_dW"]
    )


@pytest.mark.parametrize(
    "args, message",
    [
        (["--sizes", "2,3", "--activations", "softmax", "--y", "3"], "--y: y[0] = 3 is not"),
        (
            ["--sizes", "2,2", "--activations", "identity", "--y", "1,2,3"],
            "--y must hold one target per output unit for mse (the output layer has 2 units); "
            "got 3 values",
        ),
        (["--sizes", "2,2", "--activations", "sigmoid", "--y", "2,0"], "--y: binary_cross"),
    ],
)
def test_explain_target_errors_name_the_option(args: list[str], message: str) -> None:
    result = chainrule("explain", "--x", "1,2", *args)
    assert result.returncode == 2
    assert message in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_explain_width_error_counts_one_value_in_the_singular() -> None:
    result = chainrule("explain", "--sizes", "2,2", "--activations", "softmax", "--x", "1")
    assert result.returncode == 2
    assert "--x has 1 value but the network takes 2 inputs" in result.stderr, result.stderr


def test_gradcheck_errors_name_the_option_and_the_file(tmp_path: Path) -> None:
    net = ["--sizes", "2,3,2", "--activations", "tanh,softmax"]
    eps = chainrule("gradcheck", *net, "--eps", "2")
    assert eps.returncode == 2 and "--eps must be in (0, 1); got 2" in eps.stderr, eps.stderr
    wide = tmp_path / "wide.csv"
    wide.write_text("a,b,c,label\n1,2,3,0\n4,5,6,1\n", encoding="utf-8")
    result = chainrule("gradcheck", *net, "--data", wide)
    assert result.returncode == 2
    assert f"--data {str(wide)!r} has 3 feature columns" in result.stderr, result.stderr
    assert "takes 2 inputs" in result.stderr
    three = tmp_path / "three.csv"
    three.write_text("a,b,label\n1,2,0\n3,4,1\n5,6,2\n", encoding="utf-8")
    result = chainrule("gradcheck", *net, "--data", three)
    assert result.returncode == 2
    assert f"--data {str(three)!r}, target column:" in result.stderr, result.stderr


def test_gradcheck_report_states_its_rounding_allowance() -> None:
    """A pass with a relative error above rtol is explained by the allowance it prints."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((4, 2)), 1e4 * rng.standard_normal((4, 2))
    _, h2 = _forward(X)
    L = float(np.mean((h2 - Y) ** 2))  # the mse, by hand
    report = gradcheck(_net(), X, Y, "mse", eps=1e-6)
    expected = 10 * np.finfo(np.float64).eps * L / 1e-6
    assert report.rounding == pytest.approx(expected, rel=1e-9)
    assert f"rounding = 10 u |L| / eps = {expected:.3g}" in str(report)


def test_demo_numbers_softmax_neurons_from_0_and_reads_the_flat_net_honestly() -> None:
    """The demo said ``class 1 iff e_2 > e_1`` (explain numbers softmax neurons 0, 1) and
    reported 0.75 / 0.25 accuracies of nets that end at ``P = 1/2`` everywhere."""
    from chainrule.cli.demo import Tour, xor_backprop

    out = io.StringIO()
    with redirect_stdout(out):
        xor_backprop(Tour(output_dir=None, quick=True))
    text = out.getvalue()
    assert "e_1^(1) > e_0^(1)" in text and "e_2 > e_1" not in text
    # The loss of P(Y = 1 | x) = 1/2 on every point is ln 2; the flat nets end there.
    match = re.search(r"loss up to (\d\.\d{4}) \(ln 2 = (\d\.\d{4})", text)
    assert match is not None, text
    assert float(match.group(1)) == pytest.approx(np.log(2), abs=1e-4)
    assert float(match.group(2)) == pytest.approx(np.log(2), abs=1e-4)
    assert "ties e_1 = e_0 broken by rounding" in text

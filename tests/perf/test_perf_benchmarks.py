"""The benchmark's yardstick and command line (correctness only: nothing here is timed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from benchmarks.reference_numpy import ReferenceMLP  # noqa: E402
from benchmarks.throughput import per_round_ratios, quartiles  # noqa: E402
from benchmarks.workloads import WORKLOADS  # noqa: E402

from chainrule.engine import SGD, Network, Trainer  # noqa: E402


@pytest.mark.parametrize("name", ["W1", "W2"])
def test_the_numpy_reference_takes_the_same_sgd_step_as_chainrule(name):
    """The yardstick is a correct MLP: from the same weights, one step gives the same weights."""
    w = WORKLOADS[name]
    X, y = w.data()
    X, y = X[: w.batch_size], y[: w.batch_size]
    ref = ReferenceMLP(list(w.sizes), w.hidden)
    weights = [np.hstack([W.T, b[:, None]]) for W, b in zip(ref.W, ref.b)]
    net = Network.from_weights(weights, w.activations, dtype="float32")
    trainer = Trainer(net, X, y, optimizer=SGD(0.1), batch_size=None, shuffle=False)
    loss = trainer.step_minibatch()
    ref_loss = ref.step(X, y, 0.1)
    assert ref_loss == pytest.approx(loss, rel=1e-5)
    for W, W_ref, b_ref in zip(net.weights, ref.W, ref.b):
        np.testing.assert_allclose(W[:, :-1], W_ref.T, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(W[:, -1], b_ref, rtol=1e-4, atol=1e-6)


def test_gemm_shapes_count_every_product_of_a_step():
    w = WORKLOADS["W3"]  # 784-256-256-10, batch 128: 3 forward, 3 dW, 2 dh
    assert len(w.gemm_shapes()) == 8
    assert w.flops_per_step() == 2 * 128 * (3 * 256 * 256 + 3 * 256 * 10 + 2 * 784 * 256)


def test_per_round_ratios_and_their_quartiles():
    assert per_round_ratios([2.0, 3.0], [1.0, 2.0]) == [2.0, 1.5]
    assert quartiles([4.0]) == [4.0, 4.0, 4.0]
    assert quartiles([1.0, 2.0, 3.0, 4.0, 5.0]) == [2.0, 3.0, 4.0]


def _run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "benchmarks", *args],
        check=False,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_an_unknown_workload_is_refused():
    done = _run("--workloads", "W1,W9", "--no-memory", "--no-extras")
    assert done.returncode == 2
    assert "W9" in done.stderr


@pytest.mark.slow
def test_a_quick_run_writes_json_and_markdown(tmp_path):
    done = _run(
        "--quick",
        "--workloads",
        "W1",
        "--threads",
        "1",
        "--repeats",
        "3",
        "--no-extras",
        "--output",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    assert "OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are unset" in done.stdout
    results = json.loads((tmp_path / "latest.json").read_text())
    w1 = results["training"]["1"]["W1"]
    assert set(w1["implementations"]) == {"chainrule", "numpy-ref", "torch", "sklearn", "gemm-only"}
    assert all(v > 0 for v in w1["ratios"].values())
    for key, (q1, median, q3) in w1["ratio_quartiles"].items():
        assert q1 <= median <= q3
        assert median == pytest.approx(w1["ratios"][key])
    assert w1["gemm_ceiling_vs_torch"] > 0
    assert results["memory"]["W1"]["chainrule"]["peak_rss_mib"] > 0
    assert "| W1 |" in (tmp_path / "latest.md").read_text()


def test_other_shapes_are_measured_against_torch_and_reported(monkeypatch):
    """The shapes no target names run through the same measurement as W1-W4 (here one small
    shape, quickly) and reach the report with both speeds and their ratio."""
    from benchmarks import extras, report, workloads

    real = workloads.OTHER_WORKLOADS
    assert not set(real) & set(WORKLOADS)  # their own names in the report and the JSON
    small = workloads.Workload("S9", "tiny", (3, 5, 2), "tanh", 4, 5)
    monkeypatch.setattr(workloads, "OTHER_WORKLOADS", {"S9": small})
    shapes = extras.other_shapes(1, quick=True)
    r = shapes["S9"]
    assert r["samples_per_s"]["chainrule"] > 0 and r["samples_per_s"]["torch"] > 0
    q1, median, q3 = r["ratio_quartiles"]
    assert q1 <= median <= q3 and median == pytest.approx(r["vs_torch"])
    lines = report._extras_lines({"other_shapes": shapes})
    assert lines[-1].startswith("  S9 3-5-2 tanh, batch 4 (tiny): chainrule ")
    assert lines[-1].endswith(f"{r['vs_torch']:.2f}x")

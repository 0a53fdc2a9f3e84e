"""``chainrule export`` through the real command line."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort

from chainrule.datasets import Standardizer
from chainrule.engine import Network
from chainrule.fit import FittedModel
from chainrule.serialization import save_model
from cli_helpers import chainrule


def test_export_onnx_runs_like_the_model_file(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(5.0, 3.0, size=(40, 4))
    net = Network([4, 6, 3], ["relu", "softmax"], seed=0)
    model_path = tmp_path / "iris.safetensors"
    save_model(
        model_path,
        weights=net.weights,
        activations=net.activations,
        loss="cross_entropy",
        classes=["a", "b", "c"],
        preprocessing={"standardizer": Standardizer().fit(X).to_dict()},
    )
    out = tmp_path / "model.onnx"
    result = chainrule("export", str(model_path), "--format", "onnx", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "'probabilities'" in result.stdout
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    (probabilities,) = session.run(None, {"input": X.astype(np.float32)})
    expected = FittedModel.load(model_path).predict_proba(X)
    np.testing.assert_allclose(probabilities, expected, rtol=0, atol=1e-5)


def test_bad_model_file_is_one_error_line_and_no_output(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x00" * 20)
    out = tmp_path / "model.onnx"
    result = chainrule("export", str(bad), "-o", str(out))
    assert result.returncode == 2
    assert result.stderr.startswith("chainrule export: error:") and result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr and not out.exists()
    missing = chainrule("export", str(bad), "-o", str(tmp_path / "no" / "such" / "m.onnx"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr

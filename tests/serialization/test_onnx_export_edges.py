"""ONNX export of what the graph's dtype cannot hold, and of standardisations that do not fit
the network or come as a scikit-learn StandardScaler: refused with a ValidationError, or exported
so that onnxruntime agrees with the network applied to scikit-learn's own ``transform``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from chainrule.datasets import Standardizer
from chainrule.engine import Network
from chainrule.errors import ValidationError
from chainrule.serialization import save_model
from chainrule.serialization.onnx_export import export_onnx

RNG = np.random.default_rng(7)
X = RNG.normal(loc=3.0, scale=4.0, size=(32, 3))


def run_onnx(path: Path, inputs: np.ndarray) -> np.ndarray:
    """Run the file on ``inputs`` in the graph's own input dtype (float32 or float64)."""
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    dtype = np.float64 if session.get_inputs()[0].type == "tensor(double)" else np.float32
    (output,) = session.run(None, {"input": inputs.astype(dtype)})
    return output


def network(dtype: str = "float64", **overrides: float) -> Network:
    """A 3-4-2 tanh/identity network; ``overrides`` set entries of W^(1) by "row_col"."""
    net = Network([3, 4, 2], ["tanh", "identity"], seed=3, dtype=dtype)
    for key, value in overrides.items():
        row, column = (int(i) for i in key.split("_"))
        net.weights[0][row, column] = value
    return net


def float64_network(**overrides: float) -> Network:
    return network("float64", **overrides)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nan_weights_are_refused(tmp_path: Path, dtype: str) -> None:
    net = network(dtype, **{"1_3": np.nan})  # 1_3: the bias of unit 1
    path = tmp_path / "net.onnx"
    with pytest.raises(ValidationError, match=rf"W\^\(1\) has NaN .* computes in {dtype}"):
        export_onnx(net, path)
    assert list(tmp_path.iterdir()) == []


def test_float64_weights_beyond_float32_export_in_float64(tmp_path: Path) -> None:
    # A float64 network's graph is float64: 1e39 is an ordinary number there.
    net = float64_network(**{"1_3": -1e39, "0_0": 1e-300})
    path = tmp_path / "net.onnx"
    export_onnx(net, path)
    np.testing.assert_allclose(run_onnx(path, X), net.forward(X), rtol=1e-12, atol=1e-12)


def test_a_standardizer_float32_cannot_hold_is_refused_in_a_float32_graph(tmp_path: Path) -> None:
    scaler = Standardizer().fit(np.array([[1e39, 0.0, 1.0], [3e39, 1.0, 2.0]]))
    with pytest.raises(ValidationError, match="standardizer's mean has values beyond float32"):
        export_onnx(network("float32"), tmp_path / "net.onnx", standardizer=scaler)
    assert list(tmp_path.iterdir()) == []


def test_tiny_standardizer_values_export_as_float32_does(tmp_path: Path) -> None:
    # 1e-40 is subnormal in float32 and 1e-50 below its range: the cast rounds them (to a
    # subnormal, to 0) as float32 arithmetic would, under the suite's np.seterr(all="raise") too.
    scaler = Standardizer.from_dict(
        {"type": "Standardizer", "version": 1, "mean": [1e-40, -1e-50, 0.0], "scale": [1.0] * 3}
    )
    net = network("float32")
    path = tmp_path / "net.onnx"
    export_onnx(net, path, standardizer=scaler)
    np.testing.assert_allclose(run_onnx(path, X), net.forward(X), rtol=1e-5, atol=1e-5)


def test_a_scale_float32_rounds_to_zero_is_refused_and_exports_in_float64(tmp_path: Path) -> None:
    # A feature measured in units of 1e-46: its scale is 0 in float32, and the graph divided by
    # it (onnxruntime gave NaN for every row) while the float32 network's predict, which
    # standardises in float64, gave numbers.
    data = np.c_[RNG.normal(size=32) * 1e-46, X[:, 1:]]
    scaler = Standardizer().fit(data)
    with pytest.raises(ValidationError, match=r"scale has values below float32's range .* zero"):
        export_onnx(network("float32"), tmp_path / "net.onnx", standardizer=scaler)
    assert list(tmp_path.iterdir()) == []
    net = float64_network()
    export_onnx(net, tmp_path / "net.onnx", standardizer=scaler)
    # the reference: scikit-learn's StandardScaler (population std, as Standardizer)
    reference = net.forward(StandardScaler().fit(data).transform(data))
    np.testing.assert_allclose(run_onnx(tmp_path / "net.onnx", data), reference, rtol=1e-9)


@pytest.mark.parametrize(
    "scaler",
    [StandardScaler(), StandardScaler(with_mean=False), StandardScaler(with_std=False)],
    ids=["default", "with_mean=False", "with_std=False"],
)
def test_a_standard_scaler_given_as_standardizer_is_applied_as_it_transforms(
    tmp_path: Path, scaler: StandardScaler
) -> None:
    scaler.fit(X)
    net = float64_network()
    path = tmp_path / "net.onnx"
    export_onnx(net, path, standardizer=scaler)
    reference = net.forward(scaler.transform(X))
    np.testing.assert_allclose(run_onnx(path, X), reference, rtol=1e-12, atol=1e-12)


def test_other_preprocessing_given_as_standardizer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "net.onnx"
    with pytest.raises(ValidationError, match=r"standardizer= takes .* got MinMaxScaler"):
        export_onnx(float64_network(), path, standardizer=MinMaxScaler().fit(X))
    with pytest.raises(ValidationError, match="given as standardizer= is not fitted yet"):
        export_onnx(float64_network(), path, standardizer=StandardScaler())
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("n_out", "n_targets"), [(3, 1), (1, 3)])
def test_a_target_standardizer_of_another_width_is_refused(
    tmp_path: Path, n_out: int, n_targets: int
) -> None:
    # One scale for three outputs would broadcast over all of them in the graph (while the
    # model's own prediction refuses it); three for one output would fail in onnx's checker.
    net = Network([3, 4, n_out], ["tanh", "identity"], seed=0)
    model = tmp_path / "model.safetensors"
    save_model(
        model,
        net,
        preprocessing={
            "standardizer": Standardizer().fit(X).to_dict(),
            "target_standardizer": Standardizer().fit(RNG.normal(size=(8, n_targets))).to_dict(),
        },
    )
    with pytest.raises(
        ValidationError,
        match=f"target standardizer has {n_targets} columns but the network gives {n_out}",
    ):
        export_onnx(model, tmp_path / "model.onnx")
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]

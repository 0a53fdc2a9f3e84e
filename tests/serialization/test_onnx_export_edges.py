"""ONNX export of what the graph's float32 cannot hold, and of standardisations that do not fit
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
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"input": inputs.astype(np.float32)})
    return output


def float64_network(**overrides: float) -> Network:
    """A float64 3-4-2 tanh/identity network; ``overrides`` set entries of W^(1) by "row_col"."""
    net = Network([3, 4, 2], ["tanh", "identity"], seed=3, dtype="float64")
    for key, value in overrides.items():
        row, column = (int(i) for i in key.split("_"))
        net.weights[0][row, column] = value
    return net


@pytest.mark.parametrize(
    ("value", "message"),
    [(1e39, r"W\^\(1\) has values beyond float32's range"), (np.nan, r"W\^\(1\) has NaN")],
)
def test_weights_float32_cannot_hold_are_refused(
    tmp_path: Path, value: float, message: str
) -> None:
    net = float64_network(**{"1_3": value})  # 1_3: the bias of unit 1
    path = tmp_path / "net.onnx"
    with pytest.raises(ValidationError, match=message):
        export_onnx(net, path)
    assert list(tmp_path.iterdir()) == []


def test_a_standardizer_float32_cannot_hold_is_refused(tmp_path: Path) -> None:
    scaler = Standardizer().fit(np.array([[1e39, 0.0, 1.0], [3e39, 1.0, 2.0]]))
    with pytest.raises(ValidationError, match="standardizer's mean has values beyond float32"):
        export_onnx(float64_network(), tmp_path / "net.onnx", standardizer=scaler)


def test_tiny_float64_weights_export_as_float32_does(tmp_path: Path) -> None:
    # 1e-40 is subnormal in float32 and 1e-50 below its range: the cast rounds them (to a
    # subnormal, to 0) as float32 arithmetic would, under the suite's np.seterr(all="raise") too.
    net = float64_network(**{"0_0": 1e-40, "2_1": -1e-50})
    path = tmp_path / "net.onnx"
    export_onnx(net, path)
    np.testing.assert_allclose(run_onnx(path, X), net.forward(X), rtol=1e-5, atol=1e-5)


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
    np.testing.assert_allclose(run_onnx(path, X), reference, rtol=1e-5, atol=1e-5)


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
        weights=net.weights,
        activations=net.activations,
        loss="mse",
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

"""Named data sets: the listing, toy names with arguments, scikit-learn tables, import hygiene."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import chainrule.datasets as datasets
from chainrule.datasets import available, load
from chainrule.errors import DataError, ValidationError

SKLEARN_NAMES = ["iris", "wine", "breast_cancer", "digits", "diabetes"]
TOY_NAMES = ["xor", "circle", "gaussian", "spiral", "moons", "plane", "sine"]


def test_available_lists_every_name_once() -> None:
    infos = available()
    names = [d.name for d in infos]
    assert names == [*TOY_NAMES, *SKLEARN_NAMES, "mnist", "fashion_mnist"]
    for d in infos:
        assert d.task in ("classification", "regression")
        assert (d.n_classes is None) == (d.task == "regression")
        assert d.n_samples > 0 and d.n_features > 0 and d.description


@pytest.mark.parametrize("name", TOY_NAMES)
def test_toy_names_match_listing(name: str) -> None:
    info = {d.name: d for d in available()}[name]
    ds = load(name, seed=0)
    assert ds.X.shape == (info.n_samples, info.n_features)
    assert ds.task == info.task and ds.n_classes == info.n_classes and ds.name == name


def test_toy_kwargs_pass_through() -> None:
    ds = load("spiral", n_samples=90, n_classes=3, noise=0.0, seed=7)
    X, y = datasets.spiral(90, n_classes=3, noise=0.0, seed=7)
    assert np.array_equal(ds.X, X) and np.array_equal(ds.y, y)
    assert ds.classes == ["0", "1", "2"] and ds.feature_names == ["x1", "x2"]
    assert load("sine", n_samples=5, seed=0).feature_names == ["x1"]


def test_toy_unknown_argument() -> None:
    with pytest.raises(ValidationError) as info:
        load("xor", n_classes=3)
    assert str(info.value) == (
        "unknown argument 'n_classes' for data set 'xor'; accepted: n_samples, noise, seed"
    )


def test_unknown_name_lists_valid_names() -> None:
    with pytest.raises(ValidationError) as info:
        load("irs")
    message = str(info.value)
    assert message.startswith("unknown data set 'irs'; choose one of xor, circle")
    for name in [*SKLEARN_NAMES, "mnist", "fashion_mnist"]:
        assert name in message
    with pytest.raises(ValidationError, match="must be a string"):
        load(3)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", SKLEARN_NAMES)
def test_sklearn_tables_match_listing(name: str) -> None:
    info = {d.name: d for d in available()}[name]
    ds = load(name)
    assert ds.X.shape == (info.n_samples, info.n_features) and ds.X.dtype == np.float64
    assert ds.task == info.task and ds.n_classes == info.n_classes
    assert len(ds.feature_names) == info.n_features and np.all(np.isfinite(ds.X))
    if ds.task == "classification":
        assert ds.y.dtype == np.int64 and set(ds.y.tolist()) == set(range(info.n_classes or 0))
    else:
        assert ds.y.dtype == np.float64


def test_digits_and_iris_details() -> None:
    digits = load("digits")
    assert digits.X.shape == (1797, 64) and digits.classes == [str(d) for d in range(10)]
    iris = load("iris")
    assert iris.classes == ["setosa", "versicolor", "virginica"]
    assert iris.feature_names[0] == "sepal length (cm)"
    assert iris.decode(iris.y[:1]).tolist() == ["setosa"]


def test_sklearn_tables_take_no_arguments() -> None:
    with pytest.raises(ValidationError, match="'iris' takes no arguments; got seed"):
        load("iris", seed=0)


def test_missing_sklearn_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(DataError) as info:
        load("wine")
    assert "scikit-learn, which is not installed" in str(info.value)
    assert "pip install chainrule[data]" in str(info.value)


def test_import_needs_numpy_only() -> None:
    src = Path(datasets.__file__).resolve().parents[2]
    code = (
        "import sys, chainrule.datasets as d; d.available(); d.load('xor', seed=0); "
        "bad = [m for m in ('sklearn', 'scipy', 'torch', 'pandas') if m in sys.modules]; "
        "assert not bad, bad"
    )
    env = {**os.environ, "PYTHONPATH": f"{src}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_public_names() -> None:
    for name in datasets.__all__:
        assert hasattr(datasets, name), name

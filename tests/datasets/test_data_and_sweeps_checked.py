"""Defects found reviewing data loading and sweeps, each checked against an independent
reference: pandas for what a CSV cell means, exact rational arithmetic and scikit-learn's
StandardScaler for standardisation, the csv module for a results line, Python's own
TypeError for a bad keyword."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chainrule.datasets import Standardizer, load, load_csv, load_npz, save_csv
from chainrule.errors import DataError, ValidationError
from chainrule.sweeps import ResultsFile, SweepConfigError, TrialResult, load_config
from chainrule.sweeps.results import CSV_COLUMNS, format_line

# ------------------------------------------------------------------ missing class labels


def test_csv_text_label_nan_is_a_missing_value_not_a_class(tmp_path: Path) -> None:
    """Among text labels, 'nan' was read as a class of its own: its rows trained as class
    'nan'. pandas (and numpy's str(nan)) read it as a missing value."""
    path = tmp_path / "pets.csv"
    path.write_text("a,b,kind\n1,2,cat\n3,4,dog\n5,6,nan\n7,8,cat\n", encoding="utf-8")
    assert pd.read_csv(path)["kind"].isna().tolist() == [False, False, True, False]
    with pytest.raises(DataError) as info:
        load_csv(path)
    message = str(info.value)
    assert message.startswith(f"{path}, line 4, column 'kind': expected a class label, got 'nan'")
    assert "missing value" in message


def test_save_csv_refuses_a_nan_class_label_it_could_not_read_back(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    with pytest.raises(ValidationError, match="class label 'nan' reads back as a missing value"):
        save_csv(path, np.ones((2, 1)), np.array([0, 1]), classes=["cat", "nan"])
    assert not path.exists()


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        # float labels with a missing one, turned into text: numpy writes it 'nan'
        (np.array([1.0, np.nan, 2.0]).astype(str), "y[1]: expected a class label, got 'nan'"),
        (np.array(["a", "", "b"]), "y[1]: expected a class label, got '', which is empty"),
    ],
)
def test_npz_string_labels_refuse_missing_values_as_load_csv_does(
    tmp_path: Path, labels: np.ndarray, fragment: str
) -> None:
    """A string y with '' or 'nan' gave those a class each, where the same labels in a CSV
    file are refused."""
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((3, 2)), y=labels)
    csv_path = tmp_path / "d.csv"
    csv_path.write_text(
        "a,b,y\n" + "".join(f"1,1,{t}\n" for t in labels.tolist()), encoding="utf-8"
    )
    with pytest.raises(DataError):
        load_csv(csv_path)  # the reference behaviour for the same labels
    with pytest.raises(DataError) as info:
        load_npz(path)
    assert str(info.value).startswith(f"{path}: {fragment}")


def test_npz_without_features_is_refused_as_load_csv_refuses_it(tmp_path: Path) -> None:
    """An X of 0 columns loaded as a data set with no features, where a CSV file with a
    target column alone is refused."""
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("y\na\nb\na\n", encoding="utf-8")
    with pytest.raises(DataError, match="at least 2 columns"):
        load_csv(csv_path)  # the reference behaviour
    path = tmp_path / "d.npz"
    np.savez(path, X=np.ones((3, 0)), y=np.array([0, 1, 0]))
    for target in ("y", None):
        with pytest.raises(DataError) as info:
            load_npz(path, target=target)
        assert str(info.value) == (
            f"{path}: X has shape (3, 0), no feature columns; a data set needs at least one feature"
        )


# ------------------------------------------------------------------ standardisation


def _exact_z(column: np.ndarray) -> np.ndarray:
    """z-scores (population std) computed in exact rational arithmetic, rounded at the end."""
    values = [Fraction(float(v)) for v in column]
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / len(values)
    std = float(var) ** 0.5
    return np.array([float(v - mean) / std for v in values])


@pytest.mark.parametrize(
    "column",
    [
        1e6 + 1e-6 * np.arange(3.0),  # thousands of float steps apart
        1.7e18 + 1e6 * np.arange(5.0),  # nanosecond timestamps within 5 ms
    ],
)
def test_close_but_distinct_values_are_scaled_not_flattened(column: np.ndarray) -> None:
    """A spread below 1e-12 of the mean counted as constant: scale 1, every z-score ~0,
    the feature gone. scikit-learn scales such a column; the exact z-scores are the
    reference."""
    from sklearn.preprocessing import StandardScaler

    X = column.reshape(-1, 1)
    assert np.unique(X).size == X.shape[0]
    expected = _exact_z(column)
    sk = StandardScaler().fit_transform(X).ravel()
    np.testing.assert_allclose(sk, expected, rtol=1e-3, atol=1e-3)  # the reference agrees
    z = Standardizer().fit_transform(X).ravel()
    # The mean itself is a float: z can be off by one float step of the mean, in stds.
    step = float(np.spacing(column.mean()) / column.std())
    np.testing.assert_allclose(z, expected, rtol=1e-9, atol=step)


def test_constant_columns_still_get_scale_one() -> None:
    X = np.array([[0.1, -7.0, 1e-300], [0.1, -7.0, 1e-300], [0.1, -7.0, 1e-300]])
    s = Standardizer().fit(X)
    assert s.scale_ is not None and s.scale_.tolist() == [1.0, 1.0, 1.0]
    assert np.all(s.transform(X) == 0.0)


@pytest.mark.parametrize("column", [[0.3, 0.1 + 0.2], [5.0, 5.0, 5.0 + 8.9e-16]])
def test_a_spread_within_rounding_is_constant_as_for_standard_scaler(column) -> None:
    """0.1 + 0.2 beside 0.3 is one value computed two ways: scaling their 1-ulp spread to
    unit variance would turn rounding into a full-size feature. StandardScaler's bound says
    constant, and so does the Standardizer."""
    from sklearn.preprocessing import StandardScaler

    X = np.array(column)[:, None]
    assert StandardScaler().fit(X).scale_.tolist() == [1.0]
    s = Standardizer().fit(X)
    assert s.scale_ is not None and s.scale_.tolist() == [1.0]


# ------------------------------------------------------------------ named data sets


def test_mnist_refuses_an_unknown_argument_by_name(tmp_path: Path) -> None:
    """load('mnist', seed=0) raised Python's TypeError about the private _load_mnist; the
    toy sets' bad arguments are a ValidationError naming the accepted ones."""
    with pytest.raises(ValidationError) as info:
        load("mnist", seed=0, cache_dir=tmp_path)
    assert str(info.value).startswith("unknown argument 'seed' for data set 'mnist'; accepted: ")
    assert "max_samples" in str(info.value)
    assert not any(tmp_path.iterdir())  # refused before any download


# ------------------------------------------------------------------ sweep configs


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        (
            {"name": "iris", "n_samples": 50},
            "dataset.n_samples applies to the toy data sets (circle, gaussian, moons, plane, "
            "sine, spiral, xor), not to 'iris'",
        ),
        (
            {"name": "mnist", "n_samples": 1000},
            "dataset.n_samples applies to the toy data sets (circle, gaussian, moons, plane, "
            "sine, spiral, xor), not to 'mnist'",
        ),
        (
            {"name": "xor", "n_classes": 3},
            "dataset.n_classes does not apply to the data set 'xor'; it takes n_samples, "
            "noise, seed",
        ),
    ],
)
def test_dataset_options_the_set_does_not_take_are_config_errors(
    dataset: dict[str, object], message: str
) -> None:
    """Accepted by load_config, these failed only when the data were loaded: a TypeError
    from the MNIST loader, a message not naming the config key for the others."""
    with pytest.raises(SweepConfigError) as info:
        load_config({"dataset": dataset})
    assert str(info.value) == message


def test_toy_options_the_generator_takes_are_kept() -> None:
    config = load_config({"dataset": {"name": "circle", "n_classes": 3, "noise": 0.0}, "seed": 4})
    assert config.dataset.options == {"n_classes": 3, "noise": 0.0, "seed": 4}


# ------------------------------------------------------------------ results files


def test_a_csv_line_torn_inside_its_error_is_rerun_not_kept(tmp_path: Path) -> None:
    """Torn inside the last field (the error message), a CSV line still has every column and
    was kept as a finished 'failed' trial with its message cut short, never rerun."""
    params = {"hidden_layers": [8], "activation": "tanh", "optimizer": "adam",
              "learning_rate": 0.01, "l2": 0.0, "batch_size": 16, "epochs": 3}  # fmt: skip
    failed = TrialResult(
        "00000000000000aa", params, "xor", 3, 0, "failed", "accuracy",
        error="fold 1: layers too wide for the memory",
    )  # fmt: skip
    line = format_line(failed, "csv")
    torn = line[: line.index("too wide")]
    import csv

    assert len(next(csv.reader([torn]))) == len(CSV_COLUMNS)  # parses as a whole record
    path = tmp_path / "r.csv"
    header = ",".join(CSV_COLUMNS) + "\n"
    path.write_text(header + torn, encoding="utf-8")
    store = ResultsFile(path)
    assert store.read() == {}
    store.open()
    store.append(failed)
    store.close()
    assert path.read_text(encoding="utf-8") == header + line
    assert ResultsFile(path).read() == {failed.trial_id: failed}


def test_log_uniform_draws_stay_within_the_configured_bounds() -> None:
    """Rounded to 4 significant digits, a draw next to a bound with more digits landed
    outside the range: [0.00123456, 0.00123458] gave 0.001235."""
    config = load_config(
        {
            "dataset": "xor",
            "search": {"method": "random", "n_trials": 20, "seed": 0},
            "space": {"learning_rate": {"log_uniform": [0.00123456, 0.00123458]}},
        }
    )
    rates = [point["learning_rate"] for point in config.points()]
    assert all(0.00123456 <= rate <= 0.00123458 for rate in rates)

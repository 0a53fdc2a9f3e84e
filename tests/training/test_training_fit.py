"""``chainrule.fit``: splitting, standardisation on training rows only, seeds, model files."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.datasets import Dataset, load
from chainrule.engine.callbacks import Callback
from chainrule.errors import DataError, ModelFileError, ValidationError
from chainrule.fit import FittedModel, TrainConfig, fit


class Capture(Callback):
    def on_train_begin(self, trainer):
        self.X, self.y = trainer.X.copy(), trainer.y.copy()
        self.X_val, self.y_val = (a.copy() for a in trainer.validation)


def imbalanced(n0=90, n1=30, seed=0):
    rng = np.random.default_rng(seed)
    y = np.r_[np.zeros(n0, int), np.ones(n1, int)]
    X = rng.normal(size=(len(y), 3)) * [1.0, 10.0, 0.1] + [5.0, -3.0, 100.0] + y[:, None]
    return Dataset(X, y, ["a", "b", "c"], "y", ["no", "yes"], "classification", "imb")


def test_standardisation_is_fitted_on_the_training_rows_only():
    data = imbalanced()
    capture = Capture()
    model = fit(
        data, TrainConfig(epochs=1, validation_fraction=0.25, dtype="float64"), callbacks=[capture]
    )
    np.testing.assert_allclose(capture.X.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(capture.X.std(axis=0), 1, rtol=1e-12)
    assert np.abs(capture.X_val.mean(axis=0)).max() > 1e-3  # other rows: not exactly centred
    train_rows = model.standardizer.inverse_transform(capture.X)
    val_rows = model.standardizer.inverse_transform(capture.X_val)
    index = {tuple(np.round(r, 8)): i for i, r in enumerate(data.X)}
    train_ids = {index[tuple(np.round(r, 8))] for r in train_rows}
    val_ids = {index[tuple(np.round(r, 8))] for r in val_rows}
    assert not train_ids & val_ids and len(train_ids | val_ids) == data.n_samples
    np.testing.assert_allclose(model.standardizer.mean_, data.X[sorted(train_ids)].mean(axis=0))


def test_validation_split_is_stratified_and_seeded():
    data = imbalanced()
    first, again, other = Capture(), Capture(), Capture()
    config = TrainConfig(epochs=1, validation_fraction=0.25, seed=5)
    fit(data, config, callbacks=[first])
    fit(data, config, callbacks=[again])
    fit(data, TrainConfig(epochs=1, validation_fraction=0.25, seed=6), callbacks=[other])
    assert np.bincount(first.y_val).tolist() == [22, 8] or np.bincount(first.y_val).tolist() == [
        23,
        7,
    ]
    np.testing.assert_array_equal(first.X_val, again.X_val)
    assert not np.array_equal(first.X_val, other.X_val)


def test_same_seed_same_weights_and_prediction_applies_the_scaling(tmp_path):
    data = imbalanced()
    a = fit(data, TrainConfig(epochs=3, seed=1))
    b = fit(data, TrainConfig(epochs=3, seed=1))
    assert all(x.tobytes() == y.tobytes() for x, y in zip(a.net.weights, b.net.weights))
    a.save(tmp_path / "m")
    loaded = FittedModel.load(tmp_path / "m")
    raw = data.X[:10]
    expected = a.net.predict_proba(a.standardizer.transform(raw).astype(np.float32))
    np.testing.assert_array_equal(loaded.predict_proba(raw), expected)
    assert set(loaded.predict(raw)) <= {"no", "yes"}
    assert loaded.config == a.config and loaded.history == a.history


def test_a_model_file_naming_too_few_features_is_refused(tmp_path):
    """The names say which column of a CSV goes to which input: a file whose count differs
    from the network's inputs is malformed (they went unchecked into predict and ONNX)."""
    model = fit(imbalanced(), TrainConfig(epochs=1, seed=1))
    assert model.feature_names is not None and len(model.feature_names) == model.net.sizes[0]
    model.feature_names = model.feature_names[:-1]
    model.save(tmp_path / "m")
    n = model.net.sizes[0]
    with pytest.raises(ModelFileError, match=rf"names {n - 1} features, the network has {n} in"):
        FittedModel.load(tmp_path / "m")


def test_unseen_seed_is_drawn_and_recorded():
    model = fit(imbalanced(), TrainConfig(epochs=1, seed=None))
    assert isinstance(model.config.seed, int)


def test_explicit_validation_data_with_an_unseen_class_is_refused():
    data = imbalanced()
    val = Dataset(
        data.X[:4],
        np.array([0, 1, 2, 2]),
        data.feature_names,
        "y",
        ["no", "yes", "maybe"],
        "classification",
        "val",
    )
    with pytest.raises(DataError, match="'maybe', not seen in training"):
        fit(data, TrainConfig(epochs=1), validation_data=val)


def test_one_class_is_refused():
    data = Dataset(np.ones((5, 2)), np.zeros(5, int), ["a", "b"], "y", ["only"], "classification")
    with pytest.raises(DataError, match="only one class"):
        fit(data)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"learning_rate": -0.1}, "learning_rate must be a number > 0; got -0.1"),
        ({"epochs": 0}, "epochs must be an integer >= 1; got 0"),
        ({"optimizer": "rmsprop"}, "optimizer must be one of"),
        ({"hidden": (4, 0)}, r"hidden\[1\]"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"dtype": "float16"}, "dtype"),
    ],
)
def test_bad_settings_are_named(kwargs, message):
    with pytest.raises(ValidationError, match=message):
        TrainConfig(**kwargs)


def test_feature_count_mismatch_is_named():
    model = fit(imbalanced(), TrainConfig(epochs=1))
    with pytest.raises(ValidationError, match="the data have 2 features but the model expects 3"):
        model.predict(np.zeros((2, 2)))


def test_regression_target_is_standardised_and_mapped_back():
    data = load("plane", n_samples=200, seed=0)
    shifted = Dataset(data.X, data.y * 100 + 1000, data.feature_names, "t", None, "regression")
    model = fit(shifted, TrainConfig(epochs=40, learning_rate=0.01, validation_fraction=0.0))
    predicted = model.predict(shifted.X)
    assert np.corrcoef(predicted, shifted.y)[0, 1] > 0.95
    assert abs(predicted.mean() - shifted.y.mean()) < 5
    assert model.history.last["r2"] > 0.8


def test_read_for_model_uses_the_models_task_and_labels(tmp_path):
    from chainrule.fit import read_for_model

    plane = load("plane", n_samples=50, seed=0)
    regression = fit(plane, TrainConfig(epochs=1, hidden=(3,)))
    path = tmp_path / "few.csv"
    path.write_text("x1,x2,y\n0.1,0.2,3\n0.3,0.1,4\n")  # integer targets look like classes
    X, y = read_for_model(regression, path, need_target=True)
    assert y.dtype == np.float64 and y.tolist() == [3.0, 4.0] and X.shape == (2, 2)
    features_only = tmp_path / "f.csv"
    features_only.write_text("x1,x2\n0.1,0.2\n")
    X, y = read_for_model(regression, features_only)
    assert y is None and X.tolist() == [[0.1, 0.2]]
    with pytest.raises(DataError, match="expects 3 \\(its 2 features and the target\\)"):
        read_for_model(regression, features_only, need_target=True)
    classifier = fit(imbalanced(), TrainConfig(epochs=1, hidden=(3,)))
    labelled = tmp_path / "l.csv"
    labelled.write_text("a,b,c,y\n1,2,3,yes\n1,2,3,no\n")
    X, y = read_for_model(classifier, labelled, need_target=True)
    assert y.tolist() == [1, 0]  # codes of the model's classes ['no', 'yes']


@pytest.mark.parametrize("target", [0, "x1"])
def test_a_model_of_a_file_without_header_finds_its_target_there_again(tmp_path, target):
    """Trained with the first column of a file without a header as its target (by index or
    by its default name x1), a model reads that file (and one of its features alone) with the
    same columns: the last column was taken for the target, silently (R^2 -24 for +0.99)."""
    from chainrule.fit import read_dataset, read_for_model

    rng = np.random.default_rng(0)
    table = np.column_stack([rng.normal(size=20), rng.normal(size=20), rng.normal(size=20)])
    path = tmp_path / "nohdr.csv"
    np.savetxt(path, table, delimiter=",")
    data = read_dataset(path, target=target, task="regression")
    assert data.feature_names == ["x2", "y"] and data.target_name == "x1"
    model = fit(data, TrainConfig(epochs=1, hidden=(3,)))
    X, y = read_for_model(model, path, need_target=True)
    np.testing.assert_array_equal(X, table[:, 1:])
    np.testing.assert_array_equal(y, table[:, 0])
    X, _ = read_for_model(model, path)  # predict: the target's column skipped
    np.testing.assert_array_equal(X, table[:, 1:])
    features = tmp_path / "features.csv"
    np.savetxt(features, table[:, 1:], delimiter=",")
    X, _ = read_for_model(model, features)  # the features alone, in their order
    np.testing.assert_array_equal(X, table[:, 1:])


def test_wrong_kinds_of_arguments_are_named_not_attribute_errors():
    data = imbalanced()
    with pytest.raises(ValidationError, match=r"data must be a chainrule.datasets.Dataset.*tuple"):
        fit((data.X, data.y), TrainConfig(epochs=1))
    with pytest.raises(ValidationError, match=r"data must be .*MLPClassifier.*got ndarray"):
        fit(data.X)
    with pytest.raises(ValidationError, match=r"config must be a TrainConfig.*got dict"):
        fit(data, {"epochs": 1})  # type: ignore[arg-type]


def test_train_config_checks_hidden_and_activation_at_once():
    assert TrainConfig(hidden=16).hidden == (16,)  # one hidden layer, as in a sweep config
    assert TrainConfig(hidden=[8, 4]).hidden == (8, 4)
    with pytest.raises(ValidationError, match=r"hidden must be a sequence .*got '64'"):
        TrainConfig(hidden="64")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"activation must be one of .*tanh; got 'tahn'"):
        TrainConfig(activation="tahn")


class InterruptAt(Callback):
    """Ctrl-C at the end of epoch ``epoch``."""

    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, trainer, record):
        if trainer.epoch == self.epoch:
            raise KeyboardInterrupt


def test_resume_without_a_config_continues_to_the_interrupted_runs_end(tmp_path):
    data = imbalanced()
    config = TrainConfig(epochs=7, hidden=(3,), dtype="float64", seed=1)
    cut = fit(data, config, callbacks=[InterruptAt(3)], checkpoint=tmp_path / "c")
    assert cut.history.stopped == "interrupted" and len(cut.history.epochs) == 3
    resumed = fit(data, resume=tmp_path / "c")  # not to TrainConfig's default of 30 epochs
    straight = fit(data, config)
    assert resumed.config == config
    assert len(resumed.history.epochs) == 7 and resumed.history.stopped == "completed"
    for W, expected in zip(resumed.net.weights, straight.net.weights, strict=True):
        assert W.tobytes() == expected.tobytes()


def test_validation_data_of_another_width_are_named_with_the_training_data():
    data = imbalanced()
    val = Dataset(
        data.X[:4, :1], data.y[:4], data.feature_names[:1], "y", data.classes, data.task, "val"
    )
    with pytest.raises(DataError) as info:
        fit(data, TrainConfig(epochs=1), validation_data=val)
    assert str(info.value) == (
        f"validation data 'val' have 1 feature, training data {data.name!r} {data.n_features}"
    )


def test_a_validation_split_that_leaves_one_training_class_is_refused():
    tiny = Dataset(np.array([[1.0], [2.0]]), np.array([0, 1]), ["a"], "y", ["x", "y"],
                   "classification", "tiny")  # fmt: skip
    with pytest.raises(DataError, match=r"training rows hold one class only.*fraction = 0"):
        fit(tiny, TrainConfig(epochs=1, hidden=(2,)))
    model = fit(tiny, TrainConfig(epochs=1, hidden=(2,), validation_fraction=0.0))
    assert model.classes == ["x", "y"]

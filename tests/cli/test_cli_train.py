"""``chainrule train / evaluate / predict / datasets / plot`` through the real command line."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.metrics import mean_squared_error, r2_score

from chainrule.datasets import load, save_csv, train_test_split
from chainrule.fit import FittedModel
from chainrule.serialization import load_model
from chainrule.serialization.checkpoint import load_checkpoint
from cli_helpers import chainrule, one_line_error

ENV = {**os.environ, "MPLBACKEND": "Agg"}


def chainrule_many(commands, timeout=120):
    """Run several commands at once (each its own process); results in order."""
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "chainrule", *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=ENV,
        )
        for args in commands
    ]
    results = []
    for args, process in zip(commands, processes):
        stdout, stderr = process.communicate(timeout=timeout)
        results.append(subprocess.CompletedProcess(args, process.returncode, stdout, stderr))
    return results


def write_csv(path, header, rows):
    with open(path, "w", newline="") as fh:
        writer = csv.writer(fh)
        if header:
            writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def animals(tmp_path_factory):
    """Two well-separated blobs labelled 'cat' and 'dog', with a header."""
    folder = tmp_path_factory.mktemp("animals")
    rng = np.random.default_rng(0)
    rows = []
    for i in range(80):
        label = "cat" if i % 2 else "dog"
        centre = (-2.0, 1.0) if label == "cat" else (2.0, -1.0)
        rows.append([*(np.array(centre) + rng.normal(size=2)).round(4), label])
    path = write_csv(folder / "animals.csv", ["length", "weight", "kind"], rows)
    model = folder / "animals.safetensors"
    result = chainrule(
        "train", path, "-o", model, "--epochs", "15", "--lr", "0.01", "--plots", folder / "plots"
    )
    assert result.returncode == 0, result.stderr
    return path, model, rows


def test_train_summary_and_model_file(animals):
    _path, model, _ = animals
    saved = load_model(model)
    assert saved.classes == ("cat", "dog") and saved.task == "classification"
    assert saved.preprocessing["standardizer"]["type"] == "Standardizer"
    assert saved.training["config"]["epochs"] == 15
    assert len(saved.training["history"]["epochs"]) == 15


def test_train_json_has_per_epoch_metrics(animals, tmp_path):
    path, _, _ = animals
    result = chainrule("train", path, "--epochs", "3", "--json", "--seed", "4")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)  # nothing but the JSON on stdout
    assert report["epochs"] == 3 and report["stopped"] == "completed"
    assert set(report["final"]) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert [r["epoch"] for r in report["history"]] == [1, 2, 3]
    assert report["model"] is None and "\r" not in result.stdout


def test_predict_writes_original_labels_and_probabilities(animals, tmp_path):
    path, model, rows = animals
    features = write_csv(tmp_path / "f.csv", ["length", "weight"], [r[:2] for r in rows])
    out = tmp_path / "pred.csv"
    result = chainrule("predict", model, features, "-o", out, "--proba")
    assert result.returncode == 0, result.stderr
    with open(out) as fh:
        table = list(csv.DictReader(fh))
    fitted = FittedModel.load(model)
    X = np.array([r[:2] for r in rows], dtype=float)
    assert [t["prediction"] for t in table] == fitted.predict(X).tolist()
    np.testing.assert_allclose(
        [[float(t["p_cat"]), float(t["p_dog"])] for t in table], fitted.predict_proba(X), rtol=1e-6
    )
    assert np.mean([t["prediction"] == r[2] for t, r in zip(table, rows)]) > 0.9
    # a file with the target column too: the target is left out
    labelled = chainrule("predict", model, path)
    assert labelled.stdout.splitlines()[1:] == [t["prediction"] for t in table]


def test_evaluate_classification_matches_predictions(animals):
    path, model, rows = animals
    result = chainrule("evaluate", model, path, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    fitted = FittedModel.load(model)
    X = np.array([r[:2] for r in rows], dtype=float)
    truth = np.array([r[2] for r in rows])
    assert report["accuracy"] == pytest.approx(np.mean(fitted.predict(X) == truth))
    matrix = np.array(report["confusion_matrix"])
    assert matrix.sum() == len(rows) and np.trace(matrix) / len(rows) == report["accuracy"]
    assert matrix[0].sum() == np.sum(truth == "cat")
    text = chainrule("evaluate", model, path)
    assert "confusion matrix" in text.stdout and "accuracy" in text.stdout


def test_regression_train_evaluate_predict(tmp_path):
    rng = np.random.default_rng(1)
    X = rng.uniform(-1, 1, size=(150, 2))
    y = 3 * X[:, 0] - 2 * X[:, 1] + 5 + 0.05 * rng.normal(size=150)
    path = write_csv(
        tmp_path / "plane.csv", ["a", "b", "t"], np.column_stack([X, y]).round(5).tolist()
    )
    model = tmp_path / "plane.safetensors"
    trained = chainrule("train", path, "-o", model, "--epochs", "40", "--lr", "0.01")
    assert trained.returncode == 0, trained.stderr
    assert "r2" in trained.stdout
    report = json.loads(chainrule("evaluate", model, path, "--json").stdout)
    predictions = chainrule("predict", model, path).stdout.splitlines()
    assert predictions[0] == "prediction"
    values = np.array(predictions[1:], dtype=float)
    truth = np.loadtxt(path, delimiter=",", skiprows=1)[:, 2]
    assert report["r2"] == pytest.approx(r2_score(truth, values), abs=1e-6)
    assert report["rmse"] == pytest.approx(np.sqrt(mean_squared_error(truth, values)), rel=1e-5)
    assert report["r2"] > 0.9  # the target was standardised for training and mapped back


def test_datasets_lists_names_with_sizes():
    result = chainrule("datasets", "--json")
    assert result.returncode == 0, result.stderr
    listing = {d["name"]: d for d in json.loads(result.stdout)}
    assert listing["digits"]["n_samples"] == 1797 and listing["digits"]["n_features"] == 64
    assert listing["iris"]["n_classes"] == 3 and listing["diabetes"]["task"] == "regression"
    table = chainrule("datasets").stdout
    assert any(line.split()[:3] == ["digits", "1797", "64"] for line in table.splitlines())


PNG = b"\x89PNG\r\n\x1a\n"


def test_plot_and_train_plots_write_pngs(animals, tmp_path):
    path, model, _ = animals
    result = chainrule("plot", model, path, "-o", tmp_path / "figs")
    assert result.returncode == 0, result.stderr
    names = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert names == ["confusion_matrix.png", "decision_regions.png", "loss_curves.png"]
    for p in (tmp_path / "figs").iterdir():
        assert p.read_bytes()[:8] == PNG and p.stat().st_size > 5000
    from_train = sorted(p.name for p in (path.parent / "plots").iterdir())  # train --plots
    assert from_train == names


def test_digits_reach_95_percent_with_the_defaults(tmp_path):
    data = load("digits")
    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, 0.2, seed=0)
    save_csv(tmp_path / "train.csv", X_train, y_train, classes=data.classes)
    save_csv(tmp_path / "test.csv", X_test, y_test, classes=data.classes)
    model = tmp_path / "digits.safetensors"
    trained = chainrule("train", tmp_path / "train.csv", "-o", model, "--json")
    assert trained.returncode == 0, trained.stderr
    report = json.loads(chainrule("evaluate", model, tmp_path / "test.csv", "--json").stdout)
    seconds = json.loads(trained.stdout)["seconds"]
    print(f"\ndigits: test accuracy {report['accuracy']:.4f}, training {seconds:.2f} s")
    assert report["accuracy"] >= 0.95
    assert report["n_samples"] == len(y_test)


def test_resume_from_checkpoint_equals_uninterrupted(animals, tmp_path):
    path, _, _ = animals
    common = ["--epochs", "6", "--dtype", "float64", "--optimizer", "nesterov", "--lr", "0.05"]
    straight = chainrule("train", path, *common, "-o", tmp_path / "straight")
    part = chainrule(
        "train",
        path,
        "--epochs",
        "2",
        "--dtype",
        "float64",
        "--optimizer",
        "nesterov",
        "--lr",
        "0.05",
        "--checkpoint",
        tmp_path / "ckpt",
    )
    resumed = chainrule(
        "train", path, "--epochs", "6", "--resume", tmp_path / "ckpt", "-o", tmp_path / "resumed"
    )
    for result in (straight, part, resumed):
        assert result.returncode == 0, result.stderr
    a, b = load_model(tmp_path / "straight"), load_model(tmp_path / "resumed")
    assert all(x.tobytes() == y.tobytes() for x, y in zip(a.weights, b.weights))
    assert a.training["history"] == b.training["history"]


def test_ctrl_c_saves_the_weights_and_exits_130(animals, tmp_path):
    path, _, _ = animals
    ckpt, out = tmp_path / "ckpt", tmp_path / "model"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chainrule",
            "train",
            path,
            "--epochs",
            "100000",
            "--batch-size",
            "1",
            "--checkpoint",
            ckpt,
            "-o",
            out,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    deadline = time.monotonic() + 60
    while not ckpt.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert ckpt.exists(), process.stderr.read() if process.poll() is not None else "no checkpoint"
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert "(interrupted)" in stdout
    saved = load_model(out)
    assert saved.training["history"]["stopped"] == "interrupted"
    assert len(saved.training["history"]["epochs"]) < 100000
    # where to go on from: the checkpoint's last complete epoch, as the file holds it
    epoch = load_checkpoint(ckpt)[1]["epoch"]
    assert stderr.strip().splitlines()[-1] == (
        f"chainrule train: interrupted; kept the weights; {ckpt} holds epoch {epoch}: go on "
        f"with --resume {ckpt}"
    )


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    rows = [["x1", "x2", "y"], ["1", "2", "a"], ["2", "1", "b"], ["0", "1", "a"]]
    files = {}
    for name, edit in {
        "nan": (1, 0, "nan"),
        "inf": (2, 1, "inf"),
        "text": (3, 1, "abc"),
    }.items():
        table = [list(r) for r in rows]
        table[edit[0]][edit[1]] = edit[2]
        files[name] = write_csv(folder / f"{name}.csv", None, table)
    files["one_class"] = write_csv(folder / "one.csv", ["x1", "y"], [["1", "a"], ["2", "a"]])
    return folder, files


BAD_TRAINING = [
    ("missing file", ["train", "{dir}/nothere.csv"], "nothere.csv"),
    ("unknown name", ["train", "nothere"], "unknown data set"),
    ("no such column", ["train", "{csv}", "--target", "colour"], "colour"),
    ("NaN", ["train", "{nan}"], "nan"),
    ("inf", ["train", "{inf}"], "inf"),
    ("non-numeric", ["train", "{text}"], "abc"),
    ("one class", ["train", "{one_class}"], "only one class"),
    ("negative rate", ["train", "{csv}", "--learning-rate", "-0.1"], "--learning-rate must be"),
    ("zero epochs", ["train", "{csv}", "--epochs", "0"], "--epochs must be an integer >= 1"),
    ("bad hidden", ["train", "{csv}", "--hidden", "64,x"], "--hidden"),
    ("missing folder", ["train", "{csv}", "--checkpoint", "{dir}/no/ckpt"], "does not exist"),
]


@pytest.fixture(scope="module")
def bad_training_runs(animals, bad_files):
    folder, files = bad_files
    path, _, _ = animals
    values = {"dir": folder, "csv": path, **files}
    commands = [
        [*(a.format(**values) for a in args), "-o", folder / f"out-{case.replace(' ', '-')}"]
        for case, args, _ in BAD_TRAINING
    ]
    return dict(zip([case for case, _, _ in BAD_TRAINING], chainrule_many(commands)))


@pytest.mark.parametrize(("case", "args", "needle"), BAD_TRAINING, ids=[c[0] for c in BAD_TRAINING])
def test_bad_training_input_exits_2_with_one_line(bad_training_runs, bad_files, case, args, needle):
    line = one_line_error(bad_training_runs[case], "train")
    assert needle in line
    folder, _ = bad_files
    assert not (folder / f"out-{case.replace(' ', '-')}").exists()


def test_bad_model_time_input_exits_2_and_writes_nothing(animals, tmp_path):
    path, model, _rows = animals
    three = write_csv(tmp_path / "three.csv", None, [[1, 2, 3, 4]] * 3)
    unseen = write_csv(
        tmp_path / "unseen.csv", ["length", "weight", "kind"], [[1, 2, "cat"], [0, 1, "cow"]]
    )
    out = tmp_path / "pred.csv"
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\x00" * 40)
    mismatch, unseen_evaluate, unseen_predict, bad_model, not_checkpoint = chainrule_many(
        [
            ["predict", model, three, "-o", out],
            ["evaluate", model, unseen],
            ["predict", model, unseen, "-o", out],
            ["evaluate", garbage, path],
            ["train", path, "--resume", model],
        ]
    )
    assert "columns but the model expects 2" in one_line_error(mismatch, "predict")
    line = one_line_error(unseen_evaluate, "evaluate")
    assert "'cow'" in line and "row 2" in line
    assert unseen_predict.returncode == 0, unseen_predict.stderr  # predict ignores the target
    out.unlink()
    assert "garbage.safetensors" in one_line_error(bad_model, "evaluate")
    assert "not a checkpoint" in one_line_error(not_checkpoint, "train")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "garbage.safetensors",
        "three.csv",
        "unseen.csv",
    ]


def test_npz_data_and_target_column_by_name(animals, tmp_path):
    _, _, rows = animals
    X = np.array([r[:2] for r in rows], dtype=float)
    labels = np.array([r[2] for r in rows])
    np.savez(tmp_path / "a.npz", X=X, y=labels)
    reordered = write_csv(
        tmp_path / "r.csv", ["kind", "length", "weight"], [[r[2], r[0], r[1]] for r in rows]
    )
    npz, by_name = chainrule_many(
        [
            ["train", tmp_path / "a.npz", "--epochs", "5", "--json", "--validation-fraction", "0"],
            ["train", reordered, "--target", "kind", "--epochs", "5", "-o", tmp_path / "m"],
        ]
    )
    assert npz.returncode == 0, npz.stderr
    report = json.loads(npz.stdout)
    assert report["n_features"] == 2 and report["classes"] == ["cat", "dog"]
    assert "val_loss" not in report["final"]
    assert by_name.returncode == 0, by_name.stderr
    assert FittedModel.load(tmp_path / "m").feature_names == ["length", "weight"]


def test_resume_without_epochs_continues_to_the_interrupted_runs_end(animals, tmp_path):
    """``--resume CKPT`` alone finishes the run the checkpoint belongs to: stopping at
    TrainConfig's default of 30 epochs (or at once, past it) and calling that 'completed'
    would leave a 7- or 100-epoch run silently unfinished."""
    from chainrule.engine.callbacks import Callback
    from chainrule.fit import TrainConfig, fit, read_dataset

    class InterruptAt(Callback):
        def on_epoch_end(self, trainer, record):
            if trainer.epoch == 3:
                raise KeyboardInterrupt

    path, _, _ = animals
    config = TrainConfig(epochs=40, hidden=(3,), dtype="float64")
    cut = fit(read_dataset(path), config, callbacks=[InterruptAt()], checkpoint=tmp_path / "c")
    assert cut.history.stopped == "interrupted"
    resumed = chainrule("train", path, "--resume", tmp_path / "c", "--json")
    assert resumed.returncode == 0, resumed.stderr
    report = json.loads(resumed.stdout)
    assert report["epochs"] == 40 and report["stopped"] == "completed"
    assert report["config"]["epochs"] == 40
    # and it went on checkpointing into the file it resumed from (no --checkpoint given)
    from chainrule.serialization.checkpoint import load_checkpoint

    assert load_checkpoint(tmp_path / "c")[1]["epoch"] == 40


def test_ctrl_c_does_not_offer_an_earlier_runs_checkpoint(tmp_path):
    """A run stopped before its first checkpoint found the previous run's file at the path and
    offered it ("holds epoch 3: go on with --resume"), a run on other data. Only a file this
    run wrote, or resumed from, is offered."""
    from chainrule.cli.train import _written, resumable
    from chainrule.fit import TrainConfig, fit, read_dataset

    ckpt = tmp_path / "ck.safetensors"
    fit(read_dataset("xor"), TrainConfig(hidden=(4,), epochs=3), checkpoint=ckpt)
    before = _written(str(ckpt))  # the earlier run's file, untouched since
    assert resumable(str(ckpt), _written(str(ckpt)) != before) == (
        f"; this run wrote no checkpoint to {ckpt} (none before its first checkpoint)"
    )
    assert resumable(str(ckpt), True) == f"; {ckpt} holds epoch 3: go on with --resume {ckpt}"

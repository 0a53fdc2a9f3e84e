"""The sweep config: key checking, grid and random expansion, stable trial ids."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from chainrule.datasets import load_npz
from chainrule.errors import ChainruleError
from chainrule.sweeps import SweepConfigError, load_config, make_trials, prepare_data
from chainrule.sweeps.config import SPACE_KEYS, LogUniform, trial_id

BASE = {"dataset": "iris", "folds": 3}


def config(**changes: object) -> dict[str, object]:
    return {**BASE, **changes}


@pytest.mark.parametrize(
    ("document", "key", "allowed"),
    [
        (config(fold=3), "'fold'", "dataset, folds, seed, dtype, search, space"),
        (config(search={"methd": "grid"}), "'search.methd'", "method, n_trials, seed"),
        (
            config(space={"learning_rat": [0.1]}),
            "'space.learning_rat'",
            "hidden_layers, activation, optimizer, learning_rate, l2, batch_size, epochs",
        ),
        (config(dataset={"name": "iris", "colour": 1}), "'dataset.colour'", "name, path, target"),
        (
            config(search={"method": "random", "n_trials": 2}, space={"l2": {"log_unif": [1, 2]}}),
            "'space.l2.log_unif'",
            "log_uniform",
        ),
    ],
)
def test_unknown_key_is_named_with_the_allowed_keys(
    document: dict[str, object], key: str, allowed: str
) -> None:
    with pytest.raises(SweepConfigError) as info:
        load_config(document)
    message = str(info.value)
    assert isinstance(info.value, ChainruleError)
    assert f"unknown key {key}" in message
    assert allowed in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("document", "fragment"),
    [
        ({"folds": 3}, "needs a dataset"),
        (config(folds=1), "folds must be an integer >= 2; got 1"),
        (config(space={"activation": ["tanh", "sigmod"]}), "space.activation[1] must be one of"),
        (config(space={"activation": "step"}), "space.activation[0] must be one of"),
        (config(space={"optimizer": ["rmsprop"]}), "adam, momentum, nesterov, sgd; got 'rmsprop'"),
        (config(space={"learning_rate": [0.1, -1]}), "space.learning_rate[1] must be a number > 0"),
        (config(space={"l2": [-0.5]}), "space.l2[0] must be a number >= 0"),
        (config(space={"batch_size": [0]}), "space.batch_size[0] must be an integer >= 1"),
        (config(space={"epochs": [True]}), "space.epochs[0] must be an integer >= 1"),
        (config(space={"hidden_layers": [[8, 0]]}), "space.hidden_layers[0][1] must be an integer"),
        (config(space={"hidden_layers": []}), "space.hidden_layers must list at least one value"),
        (config(space={"learning_rate": {"log_uniform": [0.1, 0.5]}}), "needs search.method"),
        (config(search={"method": "random"}), "needs search.n_trials"),
        (config(search={"n_trials": 3}), "apply to search.method = 'random' only"),
        (
            config(search={"method": "random", "n_trials": 2}, space={"l2": {"log_uniform": [1]}}),
            "space.l2.log_uniform must be [low, high]",
        ),
        (config(dataset={"path": "data.txt"}), "must be a .csv or .npz file"),
        (config(dataset={"name": "iris", "target": "y"}), "target applies to a CSV or NPZ file"),
        (config(dataset={"name": "iris", "task": "regression"}), "task applies to a CSV or NPZ"),
        (config(dtype="float16"), "dtype must be one of float32, float64"),
        (config(dataset={"path": "d.csv", "task": "x"}), "dataset.task must be one of auto, "),
        (config(dataset={"path": "d.csv", "target": 1.5}), "dataset.target must be a column"),
        (config(dataset={"path": "d.npz", "target": 2}), "NPZ file must name its array of"),
        (config(dataset={"path": "d.npz", "target": "X"}), "NPZ file must name its array of"),
    ],
)
def test_bad_values_are_named(document: dict[str, object], fragment: str) -> None:
    with pytest.raises(SweepConfigError) as info:
        load_config(document)
    assert fragment in str(info.value)


def test_grid_is_the_cartesian_product_in_key_order() -> None:
    space = {
        "hidden_layers": [8, [16, 8], []],
        "activation": ["tanh", "relu"],
        "learning_rate": [0.01, 0.1],
        "epochs": 5,
    }
    points = load_config(config(space=space)).points()
    expected = [
        {"hidden_layers": h, "activation": a, "optimizer": "adam", "learning_rate": lr,
         "l2": 0.0, "batch_size": 32, "epochs": 5}
        for h, a, lr in itertools.product([[8], [16, 8], []], ["tanh", "relu"], [0.01, 0.1])
    ]  # fmt: skip
    assert points == expected
    assert all(list(p) == list(SPACE_KEYS) for p in points)


def test_random_search_is_seeded_and_respects_ranges() -> None:
    document = config(
        search={"method": "random", "n_trials": 30, "seed": 7},
        space={
            "learning_rate": {"log_uniform": [1e-4, 1e-1]},
            "activation": ["tanh", "relu", "sigmoid"],
        },
    )
    first = load_config(document).points()
    assert first == load_config(document).points()
    assert len(first) == 30
    rates = np.array([p["learning_rate"] for p in first])
    assert np.all((rates >= 1e-4) & (rates <= 1e-1))
    # log-uniform: about as many draws in each decade (30 draws over 3 decades)
    decades = np.histogram(np.log10(rates), bins=[-4, -3, -2, -1])[0]
    assert decades.min() >= 4
    assert {p["activation"] for p in first} == {"tanh", "relu", "sigmoid"}
    other = config(
        search={"method": "random", "n_trials": 30, "seed": 8},
        space=document["space"],
    )
    assert load_config(other).points() != first


def test_random_search_drops_duplicate_draws() -> None:
    document = config(search={"method": "random", "n_trials": 50}, space={"epochs": [1, 2]})
    cfg = load_config(document)
    assert len(cfg.points()) == 50
    trials = make_trials(cfg, prepare_data(cfg))
    assert sorted(t.params["epochs"] for t in trials) == [1, 2]


def test_log_uniform_draws_match_the_formula() -> None:
    draws = [LogUniform(1e-3, 1.0).draw(np.random.default_rng(0)) for _ in range(2)]
    u = np.random.default_rng(0).uniform(math.log(1e-3), 0.0)
    assert draws[0] == draws[1] == pytest.approx(math.exp(u), rel=1e-3)


def test_yaml_exponents_without_a_dot_are_numbers(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "dataset: iris\nspace:\n  learning_rate: [1e-3, 0.5]\n  hidden_layers: 8\n",
        encoding="utf-8",
    )
    points = load_config(tmp_path / "s.yaml").points()
    assert [p["learning_rate"] for p in points] == [0.001, 0.5]
    assert points[0]["hidden_layers"] == [8]
    with pytest.raises(SweepConfigError, match=r"space.l2\[0\] must be a number >= 0; got 'x'"):
        load_config(config(space={"l2": "x"}))


def test_toml_and_yaml_give_the_same_config(tmp_path: Path) -> None:
    document = config(
        seed=4,
        search={"method": "random", "n_trials": 3, "seed": 2},
        space={"hidden_layers": [[8], [4, 4]], "learning_rate": {"log_uniform": [0.001, 0.1]}},
    )
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    (tmp_path / "s.toml").write_text(
        'dataset = "iris"\nfolds = 3\nseed = 4\n'
        '[search]\nmethod = "random"\nn_trials = 3\nseed = 2\n'
        "[space]\nhidden_layers = [[8], [4, 4]]\nlearning_rate = { log_uniform = [0.001, 0.1] }\n",
        encoding="utf-8",
    )
    from_yaml = load_config(tmp_path / "s.yaml")
    from_toml = load_config(tmp_path / "s.toml")
    assert from_yaml.points() == from_toml.points() == load_config(document).points()


@pytest.mark.parametrize(
    ("name", "text", "fragment"),
    [
        ("s.toml", "dataset = [", "is not valid TOML"),
        ("s.yaml", "dataset: [", "is not valid YAML"),
        ("s.yaml", "- 1\n- 2\n", "must be a table of keys"),
        ("s.ini", "", "must end in .toml, .yaml or .yml"),
    ],
)
def test_unreadable_files_are_named(tmp_path: Path, name: str, text: str, fragment: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(SweepConfigError) as info:
        load_config(tmp_path / name)
    assert fragment in str(info.value) and name in str(info.value)


def test_a_relative_data_path_is_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    rows = "\n".join(f"{i % 7},{i % 3},{i % 2}" for i in range(30))
    (tmp_path / "data" / "d.csv").write_text("a,b,label\n" + rows + "\n", encoding="utf-8")
    (tmp_path / "s.toml").write_text('dataset = "data/d.csv"\nfolds = 2\n', encoding="utf-8")
    cfg = load_config(tmp_path / "s.toml")
    assert cfg.dataset.path == tmp_path / "data" / "d.csv"
    data = prepare_data(cfg)
    assert data.X.shape == (30, 2) and data.name == "d.csv"


def test_trial_ids_are_stable_and_depend_on_everything_that_decides_the_result() -> None:
    params = {"hidden_layers": [8], "activation": "tanh", "optimizer": "adam",
              "learning_rate": 0.01, "l2": 0.0, "batch_size": 32, "epochs": 5}  # fmt: skip
    reordered = dict(reversed(list(params.items())))
    base = trial_id(params, "d" * 64, 3, 0, "float32")
    assert base == trial_id(reordered, "d" * 64, 3, 0, "float32")
    assert len(base) == 16 and int(base, 16) >= 0
    variants = {
        trial_id({**params, "learning_rate": 0.02}, "d" * 64, 3, 0, "float32"),
        trial_id(params, "e" * 64, 3, 0, "float32"),
        trial_id(params, "d" * 64, 4, 0, "float32"),
        trial_id(params, "d" * 64, 3, 1, "float32"),
        trial_id(params, "d" * 64, 3, 0, "float64"),
    }
    assert base not in variants and len(variants) == 5


def test_same_config_gives_the_same_trials_in_a_fresh_load() -> None:
    document = config(dataset={"name": "xor", "n_samples": 40}, space={"epochs": [1, 2]})
    first = make_trials(load_config(document), prepare_data(load_config(document)))
    again = make_trials(load_config(document), prepare_data(load_config(document)))
    assert [t.trial_id for t in first] == [t.trial_id for t in again]
    assert len({t.trial_id for t in first}) == 2
    repeated = config(dataset={"name": "xor", "n_samples": 40}, space={"epochs": [1, 2, 1]})
    assert make_trials(load_config(repeated), prepare_data(load_config(repeated))) == first
    reseeded = config(dataset={"name": "xor", "n_samples": 40}, space={"epochs": [1, 2]}, seed=1)
    other = make_trials(load_config(reseeded), prepare_data(load_config(reseeded)))
    assert not {t.trial_id for t in other} & {t.trial_id for t in first}


def test_the_example_config_loads() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "sweep.toml"
    cfg = load_config(example)
    assert cfg.method == "random" and cfg.folds == 3 and len(cfg.points()) == 8
    assert isinstance(cfg.space["learning_rate"], LogUniform)


def test_an_npz_file_s_target_array_is_the_one_the_config_names(tmp_path: Path) -> None:
    """``target`` was read for a CSV file only: an NPZ file's ``y`` was used whatever array
    the config named (the module's docstring says target applies to CSV and NPZ)."""
    rng = np.random.default_rng(0)
    X, y, kind = rng.normal(size=(24, 2)), np.arange(24) % 2, np.array(list("abc") * 8)
    np.savez(tmp_path / "d.npz", X=X, y=y, kind=kind)
    dataset = {"path": str(tmp_path / "d.npz"), "target": "kind"}
    named = prepare_data(load_config({"dataset": dataset, "folds": 2}))
    reference = load_npz(tmp_path / "d.npz", target="kind")
    assert named.classes == reference.classes == ["a", "b", "c"]
    assert np.array_equal(named.y, reference.y) and np.array_equal(named.X, X)
    default = prepare_data(load_config({"dataset": str(tmp_path / "d.npz"), "folds": 2}))
    assert default.classes == ["0", "1"] and np.array_equal(default.y, y)

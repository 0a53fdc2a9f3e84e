"""The sweep config: read from TOML or YAML, checked key by key, expanded into trials.

A config names the data, the cross-validation and the search space::

    dataset = "iris"          # a chainrule.datasets name, or a .csv / .npz path
    folds = 3                 # stratified k-fold cross-validation
    seed = 0                  # fold assignment, weight initialisation, shuffling

    [search]
    method = "random"         # "grid" (every combination) or "random"
    n_trials = 8              # random only
    seed = 1                  # random only: which points are drawn

    [space]                   # each a list of choices (or one value)
    hidden_layers = [[8], [16, 8]]      # an int means one hidden layer of that width
    activation = ["tanh", "relu"]
    optimizer = ["adam", "momentum"]
    learning_rate = { log_uniform = [0.001, 0.1] }   # random only: a log-uniform range
    l2 = [0.0, 0.0001]
    batch_size = [32]
    epochs = [30]

``dataset`` may also be a table: ``name`` or ``path``, plus ``target`` and ``task`` (CSV/NPZ)
and the generator arguments of a toy set (``n_samples``, ``noise``, ``n_classes``, ``seed``;
a toy set's ``seed`` defaults to the sweep's, so its data are the same on every run).

A trial is one point of the space. Its id is a hash of its parameters, the data (their
bytes), the folds, the seed and the dtype, so the same trial has the same id on every run and
on every machine: that is what lets a re-run skip finished trials.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import inspect
import itertools
import json
import math
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from chainrule.engine.activations import ACTIVATIONS
from chainrule.engine.optimizers import OPTIMIZERS
from chainrule.sweeps.errors import SweepConfigError

TRIAL_FORMAT = 1
"""Bumped when a trial's computation changes meaning, so that old results are not reused."""

TOP_KEYS = ("dataset", "folds", "seed", "dtype", "search", "space")
SEARCH_KEYS = ("method", "n_trials", "seed")
SPACE_KEYS = (
    "hidden_layers",
    "activation",
    "optimizer",
    "learning_rate",
    "l2",
    "batch_size",
    "epochs",
)
DATASET_KEYS = ("name", "path", "target", "task", "n_samples", "noise", "n_classes", "seed")
RANGE_KEYS = ("log_uniform",)
LOAD_OPTIONS = ("n_samples", "noise", "n_classes", "seed")

HIDDEN_ACTIVATIONS = tuple(sorted(set(ACTIVATIONS) - {"softmax", "step"}))
"""Activations a hidden layer can be trained with (step has no useful derivative)."""
OPTIMIZER_NAMES = tuple(sorted([*OPTIMIZERS, "nesterov"]))
DEFAULT_SPACE: dict[str, list[Any]] = {
    "hidden_layers": [[16]],
    "activation": ["tanh"],
    "optimizer": ["adam"],
    "learning_rate": [0.01],
    "l2": [0.0],
    "batch_size": [32],
    "epochs": [50],
}
FILE_SUFFIXES = (".csv", ".npz")
TASKS = ("auto", "classification", "regression")


@dataclass(frozen=True)
class LogUniform:
    """A range ``[low, high]`` sampled log-uniformly: ``exp(U(ln low, ln high))``."""

    low: float
    high: float

    def draw(self, rng: np.random.Generator) -> float:
        """One value from the range, rounded to 4 significant digits (readable results).

        Kept within ``[low, high]``: a bound with more digits (``0.012345``) would otherwise
        let a draw next to it round beyond it (``0.01235``), a value the config excludes.
        """
        value = np.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        return min(max(float(f"{value:.4g}"), self.low), self.high)


@dataclass(frozen=True)
class DatasetSpec:
    """Where the data come from: a ``chainrule.datasets`` name or a CSV/NPZ path.

    ``target`` is a CSV file's target column (index or name) or an NPZ file's array of
    targets (its name, ``"y"`` by default).
    """

    name: str | None
    path: Path | None
    target: int | str = -1
    task: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The name shown in results: the data set's name or the file's name."""
        return self.name if self.name is not None else Path(str(self.path)).name


@dataclass(frozen=True)
class SweepConfig:
    """A checked sweep config (see the module docstring for the file format)."""

    dataset: DatasetSpec
    folds: int = 5
    seed: int = 0
    dtype: str = "float32"
    method: str = "grid"
    n_trials: int | None = None
    search_seed: int = 0
    space: dict[str, list[Any] | LogUniform] = field(default_factory=dict)
    source: Path | None = None

    def points(self) -> list[dict[str, Any]]:
        """The parameter sets to try, in a fixed order.

        Grid search: every combination, the last key of :data:`SPACE_KEYS` varying fastest.
        Random search: ``n_trials`` draws from a generator seeded with ``search.seed`` (a point
        drawn twice is one trial: :func:`~chainrule.sweeps.trial.make_trials` keeps the first).
        """
        if self.method == "grid":
            lists = [self.space[key] for key in SPACE_KEYS]
            combos = itertools.product(*lists)  # type: ignore[arg-type]
            return [dict(zip(SPACE_KEYS, combo, strict=True)) for combo in combos]
        rng = np.random.default_rng(self.search_seed)
        return [
            {key: _draw(self.space[key], rng) for key in SPACE_KEYS}
            for _ in range(self.n_trials or 0)
        ]


def _draw(choices: list[Any] | LogUniform, rng: np.random.Generator) -> Any:
    """One random value: from a log-uniform range, or one of a list of choices."""
    if isinstance(choices, LogUniform):
        return choices.draw(rng)
    return choices[int(rng.integers(len(choices)))]


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same value always gives the same text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def trial_id(params: Mapping[str, Any], data_digest: str, folds: int, seed: int, dtype: str) -> str:
    """A stable 16-hex-digit id for one trial: SHA-256 of everything that decides its result."""
    identity = {
        "format": TRIAL_FORMAT,
        "params": dict(params),
        "data": data_digest,
        "folds": folds,
        "seed": seed,
        "dtype": dtype,
    }
    return hashlib.sha256(canonical_json(identity).encode()).hexdigest()[:16]


# -- reading ---------------------------------------------------------------------------------


def read_config_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Parse a ``.toml``, ``.yaml`` or ``.yml`` file into a dict (errors name the file)."""
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".toml", ".yaml", ".yml"):
        raise SweepConfigError(
            f"sweep config {str(file)!r} must end in .toml, .yaml or .yml; got {suffix!r}"
        )
    try:
        raw = file.read_bytes()
    except OSError as err:
        raise SweepConfigError(f"cannot read sweep config {str(file)!r}: {err.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        raise SweepConfigError(f"sweep config {str(file)!r} is not UTF-8 text: {err}") from None
    if suffix == ".toml":
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - Python 3.10
            import tomli as tomllib
        try:
            document: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise SweepConfigError(f"sweep config {str(file)!r} is not valid TOML: {err}") from None
    else:
        yaml: Any = importlib.import_module("yaml")  # untyped: no stubs needed
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as err:
            message = " ".join(str(err).split())
            raise SweepConfigError(
                f"sweep config {str(file)!r} is not valid YAML: {message}"
            ) from None
    if not isinstance(document, dict):
        raise SweepConfigError(
            f"sweep config {str(file)!r} must be a table of keys; got {type(document).__name__}"
        )
    return document


def load_config(config: str | os.PathLike[str] | Mapping[str, Any]) -> SweepConfig:
    """Read and check a sweep config from a file path or an already parsed mapping.

    Raises
    ------
    SweepConfigError
        For an unknown key (the message names it and lists the allowed ones), a missing
        ``dataset``, a value of the wrong type or out of range, or an unreadable file.
    """
    if isinstance(config, Mapping):
        return _check_config(config, None)
    path = Path(config)
    return _check_config(read_config_file(path), path)


def _where(source: Path | None) -> str:
    return f" in {source.name}" if source is not None else ""


def _check_keys(table: Mapping[str, Any], allowed: tuple[str, ...], prefix: str, src: str) -> None:
    for key in table:
        if key not in allowed:
            name = f"{prefix}.{key}" if prefix else str(key)
            where = f"in [{prefix}]" if prefix else "at the top level"
            raise SweepConfigError(
                f"unknown key {name!r}{src}; allowed keys {where}: {', '.join(allowed)}"
            )


def _table(value: Any, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SweepConfigError(f"{name} must be a table of keys; got {value!r}")
    return value


def _int(value: Any, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise SweepConfigError(f"{name} must be an integer >= {low}; got {value!r}")
    return value


def _float(value: Any, name: str, *, positive: bool) -> float:
    number = math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as text
        with contextlib.suppress(ValueError):
            number = float(value)
    if not (math.isfinite(number) and (number > 0 if positive else number >= 0)):
        raise SweepConfigError(
            f"{name} must be a number {'>' if positive else '>='} 0; got {value!r}"
        )
    return number


def _choice(value: Any, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise SweepConfigError(f"{name} must be one of {', '.join(allowed)}; got {value!r}")
    return str(value)


def _hidden_layers(value: Any, name: str) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        return [_int(value, name, 1)]
    if not isinstance(value, list | tuple):
        raise SweepConfigError(
            f"{name} must be a list of layer widths (e.g. [16, 8]) or one width; got {value!r}"
        )
    return [_int(width, f"{name}[{i}]", 1) for i, width in enumerate(value)]


def _check_value(key: str, value: Any, name: str) -> Any:
    if key == "hidden_layers":
        return _hidden_layers(value, name)
    if key == "activation":
        return _choice(value, HIDDEN_ACTIVATIONS, name)
    if key == "optimizer":
        return _choice(value, OPTIMIZER_NAMES, name)
    if key == "learning_rate":
        return _float(value, name, positive=True)
    if key == "l2":
        return _float(value, name, positive=False)
    return _int(value, name, 1)  # batch_size, epochs


def _check_space(space: Mapping[str, Any], method: str, src: str) -> dict[str, Any]:
    _check_keys(space, SPACE_KEYS, "space", src)
    checked: dict[str, list[Any] | LogUniform] = {}
    for key in SPACE_KEYS:
        value = space.get(key, DEFAULT_SPACE[key])
        name = f"space.{key}"
        if isinstance(value, Mapping):
            _check_keys(value, RANGE_KEYS, name, src)
            if key not in ("learning_rate", "l2"):
                raise SweepConfigError(f"{name}: a log_uniform range is for learning_rate and l2")
            if method != "random":
                raise SweepConfigError(
                    f"{name}: a log_uniform range needs search.method = 'random'; "
                    "grid search needs a list of values"
                )
            bounds = value.get("log_uniform")
            if not isinstance(bounds, list) or len(bounds) != 2:
                raise SweepConfigError(f"{name}.log_uniform must be [low, high]; got {bounds!r}")
            low = _float(bounds[0], f"{name}.log_uniform[0]", positive=True)
            high = _float(bounds[1], f"{name}.log_uniform[1]", positive=True)
            if high <= low:
                raise SweepConfigError(f"{name}.log_uniform needs low < high; got {bounds!r}")
            checked[key] = LogUniform(low, high)
            continue
        # A list is a list of choices (for hidden_layers, each an int or a list of widths);
        # anything else is one fixed value.
        choices = list(value) if isinstance(value, list | tuple) else [value]
        if not choices:
            raise SweepConfigError(f"{name} must list at least one value; got []")
        checked[key] = [_check_value(key, v, f"{name}[{i}]") for i, v in enumerate(choices)]
    return checked


def _check_dataset(value: Any, source: Path | None, seed: int, src: str) -> DatasetSpec:
    table: Mapping[str, Any] = (
        {"name": value} if isinstance(value, str) else _table(value, "dataset")
    )
    _check_keys(table, DATASET_KEYS, "dataset", src)
    name, path = table.get("name"), table.get("path")
    if isinstance(name, str) and name.lower().endswith(FILE_SUFFIXES) and path is None:
        name, path = None, name
    if (name is None) == (path is None):
        raise SweepConfigError("dataset needs exactly one of name (a built-in set) or path")
    options = {key: table[key] for key in LOAD_OPTIONS if key in table}
    if path is not None:
        if not isinstance(path, str) or not path.lower().endswith(FILE_SUFFIXES):
            raise SweepConfigError(f"dataset.path must be a .csv or .npz file; got {path!r}")
        if options:
            raise SweepConfigError(
                f"dataset.{next(iter(options))} applies to built-in data sets, not to a file"
            )
        file = Path(path).expanduser()
        if not file.is_absolute() and source is not None:
            file = source.parent / file  # relative to the config file, not the working directory
        npz = path.lower().endswith(".npz")
        target = table.get("target", "y" if npz else -1)
        if npz and (not isinstance(target, str) or target in ("", "X")):
            raise SweepConfigError(
                "dataset.target of an NPZ file must name its array of targets (default 'y'); "
                f"got {target!r}"
            )
        if isinstance(target, bool) or not isinstance(target, int | str):
            raise SweepConfigError(f"dataset.target must be a column index or name; got {target!r}")
        task = _choice(table.get("task", "auto"), TASKS, "dataset.task")
        return DatasetSpec(None, file, target, task)
    if not isinstance(name, str):
        raise SweepConfigError(f"dataset.name must be a string; got {name!r}")
    for key in ("target", "task"):
        if key in table:
            raise SweepConfigError(
                f"dataset.{key} applies to a CSV or NPZ file, not to a built-in data set"
            )
    from chainrule.datasets import toy

    if name in toy.__all__ and callable(getattr(toy, name)):
        # Checked here, before any data are loaded or results written, and named as the
        # config's keys: e.g. n_classes for xor, which has two classes only.
        accepted = [
            key for key in LOAD_OPTIONS if key in inspect.signature(getattr(toy, name)).parameters
        ]
        for key in options:
            if key not in accepted:
                raise SweepConfigError(
                    f"dataset.{key} does not apply to the data set {name!r}{src}; it takes "
                    f"{', '.join(accepted)}"
                )
        options.setdefault("seed", seed)  # a toy set must be the same on every run
    elif options:
        # Only the toy generators take arguments: scikit-learn's tables and MNIST would
        # refuse them when loaded (MNIST with a TypeError), after the config was accepted.
        toys = [n for n in toy.__all__ if callable(getattr(toy, n))]
        raise SweepConfigError(
            f"dataset.{next(iter(options))} applies to the toy data sets ({', '.join(toys)}), "
            f"not to {name!r}{src}"
        )
    return DatasetSpec(name, None, options=options)


def _check_config(document: Mapping[str, Any], source: Path | None) -> SweepConfig:
    src = _where(source)
    _check_keys(document, TOP_KEYS, "", src)
    if "dataset" not in document:
        raise SweepConfigError(f"the sweep config{src} needs a dataset (a name or a path)")
    folds = _int(document.get("folds", 5), "folds", 2)
    seed = _int(document.get("seed", 0), "seed", 0)
    dtype = _choice(document.get("dtype", "float32"), ("float32", "float64"), "dtype")
    search = _table(document.get("search", {}), "search")
    _check_keys(search, SEARCH_KEYS, "search", src)
    method = _choice(search.get("method", "grid"), ("grid", "random"), "search.method")
    n_trials = None
    if method == "random":
        if "n_trials" not in search:
            raise SweepConfigError("search.method = 'random' needs search.n_trials")
        n_trials = _int(search["n_trials"], "search.n_trials", 1)
    elif "n_trials" in search or "seed" in search:
        raise SweepConfigError(
            "search.n_trials and search.seed apply to search.method = 'random' only"
        )
    search_seed = _int(search.get("seed", 0), "search.seed", 0)
    space = _check_space(_table(document.get("space", {}), "space"), method, src)
    dataset = _check_dataset(document["dataset"], source, seed, src)
    return SweepConfig(dataset, folds, seed, dtype, method, n_trials, search_seed, space, source)

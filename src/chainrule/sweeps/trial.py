"""One trial: cross-validate one point of the search space; the code every worker runs.

For each fold ``k`` the network is trained on the other folds and scored on fold ``k``:
standardise with statistics of the training folds only (:class:`~chainrule.datasets.Standardizer`),
build a :class:`~chainrule.engine.Network`, train it with chainrule's
:class:`~chainrule.engine.Trainer`, then measure the validation loss and accuracy (or ``R^2``).
Everything random is drawn from a generator seeded with ``(seed, k)``, so a trial gives the
same numbers in this process, on a local worker or on another machine.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chainrule.datasets import Dataset, Standardizer, load, load_csv, load_npz
from chainrule.engine.network import Network
from chainrule.engine.optimizers import make_optimizer
from chainrule.engine.training import Trainer
from chainrule.errors import ChainruleError
from chainrule.sweeps.config import DatasetSpec, SweepConfig, trial_id
from chainrule.sweeps.errors import SweepConfigError

SCORE_NAMES = {"classification": "accuracy", "regression": "r2"}
STATUSES = ("ok", "diverged", "failed")


def stratified_kfold(
    y: NDArray[Any],
    folds: int,
    seed: int,
    *,
    stratify: bool = True,
    classes: Sequence[str] | None = None,
) -> NDArray[np.intp]:
    """The fold (``0 .. folds-1``) of each sample: seeded, and stratified by class.

    Each class's samples are shuffled and dealt to the folds in turn, continuing where the
    previous class stopped, so every class is split as evenly as possible (per fold counts
    differ by at most one) and so are the fold sizes. ``stratify=False`` (regression) deals a
    shuffled order of all samples. ``classes`` (the label of each class code) names a class
    in the error message.

    Raises
    ------
    SweepConfigError
        If there are fewer samples (or, stratified, members of some class) than folds; the
        message names the smallest class.

    Examples
    --------
    >>> stratified_kfold(np.array([0, 0, 0, 1, 1, 1]), 3, seed=0).tolist().count(2)
    2
    """
    rng = np.random.default_rng(seed)
    fold = np.empty(len(y), dtype=np.intp)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    smallest = min(groups, key=len, default=None)
    if smallest is not None and len(smallest) < folds:
        what = "the data set"
        if stratify:
            code = y[smallest[0]].item()
            what = f"class {classes[code] if classes is not None else code!r}"
        sizes = [len(group) for group in groups] if stratify else None
        raise SweepConfigError(_too_few_message(folds, what, len(smallest), sizes))
    offset = 0
    for members in groups:
        order = rng.permutation(members)
        fold[order] = (offset + np.arange(len(order))) % folds
        offset = (offset + len(order)) % folds
    return fold


def _too_few_message(folds: int, what: str, n: int, class_sizes: list[int] | None) -> str:
    """Why ``folds`` folds are impossible when ``what`` has only ``n`` samples, and what to do.

    Cross-validation needs ``folds >= 2``, so "use folds <= 1" would be no advice: below two
    samples (of a class, when stratified: ``class_sizes`` is given) the data set itself is too
    small. Unless most of three or more classes are single samples: that is a quantity (a
    price, a count in whole numbers) read as class labels, not a small data set.
    """
    found = f"folds = {folds} but {what} has only {n} sample{'s' * (n != 1)}"
    if class_sizes is not None and len(class_sizes) > 2:
        singles = class_sizes.count(1)
        if 2 * singles > len(class_sizes):
            return (
                f"{found}: {singles} of the target's {len(class_sizes)} classes have one "
                "sample each; if the target is a quantity, not a label, set dataset.task = "
                "'regression'"
            )
    if n >= 2:
        return f"{found}; use folds <= {n}"
    each = " of every class" if class_sizes is not None else ""
    return (
        f"{found}; cross-validation needs at least 2 samples{each} (folds >= 2), so the data "
        "set is too small to sweep"
    )


def r2_score(y: NDArray[Any], prediction: NDArray[Any]) -> float:
    """Coefficient of determination ``1 - SS_res / SS_tot``.

    A constant ``y`` (``SS_tot = 0``) scores 1 for a perfect prediction and 0 otherwise, as
    scikit-learn's ``r2_score`` does.
    """
    ss_res = float(np.sum((y - prediction) ** 2))
    ss_tot = float(np.sum((y - np.mean(y)) ** 2))
    if ss_tot == 0:
        return 1.0 if ss_res == 0 else 0.0
    return 1.0 - ss_res / ss_tot


@dataclass(frozen=True, eq=False)
class SweepData:
    """The data a sweep trains on, with each sample's fold, shipped once to every worker."""

    X: NDArray[np.float64]
    y: NDArray[Any]
    fold: NDArray[np.intp]
    task: str
    classes: list[str] | None
    name: str
    digest: str
    feature_names: list[str] | None = None

    @property
    def n_outputs(self) -> int:
        """Output units: one per class, or one value for regression."""
        return len(self.classes) if self.classes is not None else 1


def data_digest(dataset: Dataset) -> str:
    """SHA-256 of the data's values and task: the same data give the same trial ids."""
    digest = hashlib.sha256()
    for array in (dataset.X, dataset.y):
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(f"{dataset.task}{dataset.classes}".encode())
    return digest.hexdigest()


def read_dataset(spec: DatasetSpec) -> Dataset:
    """Load the data a config names (a built-in set, a CSV or an NPZ file)."""
    if spec.path is None:
        assert spec.name is not None
        return load(spec.name, **spec.options)
    task: Any = spec.task
    if spec.path.suffix.lower() == ".csv":
        return load_csv(spec.path, target=spec.target, task=task)
    return load_npz(spec.path, target=str(spec.target), task=task)


def prepare_data(config: SweepConfig) -> SweepData:
    """Load the config's data and assign every sample to a fold."""
    dataset = read_dataset(config.dataset)
    classification = dataset.task == "classification"
    fold = stratified_kfold(
        dataset.y, config.folds, config.seed, stratify=classification, classes=dataset.classes
    )
    return SweepData(
        dataset.X,
        dataset.y,
        fold,
        dataset.task,
        dataset.classes,
        config.dataset.label,
        data_digest(dataset),
        list(dataset.feature_names),
    )


@dataclass(frozen=True)
class TrialSpec:
    """What a worker needs to run one trial: its id, parameters, folds, seed and dtype."""

    trial_id: str
    params: dict[str, Any]
    folds: int
    seed: int
    dtype: str


def make_trials(config: SweepConfig, data: SweepData) -> list[TrialSpec]:
    """One :class:`TrialSpec` per distinct point of the search space, in the config's order."""
    specs: dict[str, TrialSpec] = {}
    for point in config.points():
        key = trial_id(point, data.digest, config.folds, config.seed, config.dtype)
        specs.setdefault(key, TrialSpec(key, point, config.folds, config.seed, config.dtype))
    return list(specs.values())


@dataclass(frozen=True)
class TrialResult:
    """The outcome of one trial, as one line of the results file.

    ``status`` is ``"ok"``, ``"diverged"`` (training produced non-finite numbers) or
    ``"failed"`` (chainrule refused the configuration, e.g. layers too wide for the memory);
    for those two ``error`` says where and why, and the scores are ``None``. Like a finished
    one, such a trial is not run again by a re-run (delete its line to retry it).
    ``score`` is the validation accuracy (classification)
    or ``R^2`` (regression), ``loss`` the network's validation loss (cross-entropy or MSE),
    each as mean and (population) standard deviation over the folds. ``fit_time`` is the total
    training time in seconds, the one field that differs between runs.
    """

    trial_id: str
    params: dict[str, Any]
    dataset: str
    folds: int
    seed: int
    status: str
    score_name: str
    score_mean: float | None = None
    score_std: float | None = None
    loss_mean: float | None = None
    loss_std: float | None = None
    fold_scores: list[float] = field(default_factory=list)
    fold_losses: list[float] = field(default_factory=list)
    fit_time: float = 0.0
    error: str | None = None

    def to_record(self) -> dict[str, Any]:
        """A JSON-ready dict (the JSON Lines record)."""
        return {
            "trial_id": self.trial_id,
            "status": self.status,
            "dataset": self.dataset,
            "folds": self.folds,
            "seed": self.seed,
            "params": dict(self.params),
            "score_name": self.score_name,
            "score_mean": self.score_mean,
            "score_std": self.score_std,
            "loss_mean": self.loss_mean,
            "loss_std": self.loss_std,
            "fold_scores": list(self.fold_scores),
            "fold_losses": list(self.fold_losses),
            "fit_time": self.fit_time,
            "error": self.error,
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> TrialResult:
        """The inverse of :meth:`to_record`.

        Raises ``KeyError`` for a missing field and ``TypeError``/``ValueError`` naming a field
        no trial writes so (see :func:`check_record`).
        """
        fields = {key: record[key] for key in cls.__dataclass_fields__}
        check_record(fields)
        return cls(**fields)

    def describe(self) -> str:
        """One line: score, loss, time and parameters."""
        if self.status != "ok":
            head = f"{self.status}: {self.error}"
        else:
            head = (
                f"{self.score_name} {self.score_mean:.4f} ± {self.score_std:.4f}, "
                f"loss {self.loss_mean:.4g}"
            )
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.trial_id} {head} ({self.fit_time:.1f} s) {params}"


def is_finite_number(value: object) -> bool:
    """True for an ``int`` or ``float`` (not a ``bool``) that is finite."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_record(fields: Mapping[str, Any]) -> None:
    """Raise ``TypeError``/``ValueError`` naming the first field a trial could not have written.

    A results file may be edited by hand. A record kept with a score in quotes, a status
    misspelt or an "ok" trial without its scores would crash the ranking with a traceback, or
    silently drop out of it; refused here, it is named by its line (see
    :class:`~chainrule.sweeps.results.ResultsFile`).
    """
    for key in ("trial_id", "dataset", "score_name"):
        if not isinstance(fields[key], str):
            raise TypeError(f"{key} must be text; got {fields[key]!r}")
    for key in ("folds", "seed"):
        if isinstance(fields[key], bool) or not isinstance(fields[key], int):
            raise TypeError(f"{key} must be an integer; got {fields[key]!r}")
    if not isinstance(fields["params"], dict):
        raise TypeError(f"params must be a table of parameters; got {fields['params']!r}")
    if fields["status"] not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}; got {fields['status']!r}")
    if not is_finite_number(fields["fit_time"]):
        raise TypeError(f"fit_time must be a number of seconds; got {fields['fit_time']!r}")
    if fields["status"] != "ok":
        if not isinstance(fields["error"], str):
            raise TypeError(
                f"a {fields['status']} trial's error must be text; got {fields['error']!r}"
            )
        return
    for key in ("score_mean", "score_std", "loss_mean", "loss_std"):
        if not is_finite_number(fields[key]):
            raise TypeError(f"{key} of an ok trial must be a finite number; got {fields[key]!r}")
    for key in ("fold_scores", "fold_losses"):
        values = fields[key]
        if not (
            isinstance(values, list)
            and len(values) == fields["folds"]
            and all(map(is_finite_number, values))
        ):
            raise TypeError(
                f"{key} of an ok trial must list {fields['folds']} finite numbers (one per "
                f"fold); got {values!r}"
            )


def fit_network(
    X: NDArray[np.float64], y: NDArray[Any], data: SweepData, spec: TrialSpec, slot: int
) -> tuple[Network, Standardizer]:
    """Standardise ``X``, then build and train the trial's network on it.

    ``slot`` picks the random stream: fold ``k`` uses ``(seed, k)``, the final model on all data
    ``(seed, folds)``. The output layer is softmax (cross-entropy) for classification and
    identity (MSE) for regression; ``l2`` is the optimizer's weight decay (``dL/dw + l2 w``).
    """
    params = spec.params
    rng = np.random.default_rng([spec.seed, slot])
    scaler = Standardizer().fit(X)
    hidden = list(params["hidden_layers"])
    output = "softmax" if data.task == "classification" else "identity"
    net = Network(
        [X.shape[1], *hidden, data.n_outputs],
        [params["activation"]] * len(hidden) + [output],
        seed=rng,
        dtype=spec.dtype,
    )
    optimizer = make_optimizer(
        params["optimizer"], params["learning_rate"], weight_decay=params["l2"]
    )
    trainer = Trainer(
        net,
        scaler.transform(X),
        y,
        optimizer=optimizer,
        batch_size=params["batch_size"],
        shuffle=True,
        seed=rng,
    )
    trainer.fit(params["epochs"])
    if trainer.record.stopped == "interrupted":
        # The trainer turns Ctrl-C into an early end of training (its own SIGINT handler, in
        # the main thread: a serial sweep). A fold cut short would be scored and recorded as
        # finished, a wrong result a re-run never recomputes: stop the sweep instead.
        raise KeyboardInterrupt
    return net, scaler


def _validate(net: Network, X: NDArray[Any], y: NDArray[Any], task: str) -> tuple[float, float]:
    """Validation ``(score, loss)`` of a trained network on standardised ``X``."""
    assert net.loss is not None
    h0 = net.check_inputs(X)
    targets = net.check_targets(y, len(h0), net.loss)
    net.propagate(h0)
    loss = net.output_loss(targets, net.loss)
    prediction = net.predict(h0)
    if task == "classification":
        score = float(np.mean(prediction == y))
    else:
        score = r2_score(y, prediction.astype(np.float64))
    if not math.isfinite(loss):
        raise FloatingPointError(f"the validation loss is {loss}")
    return score, float(loss)


def run_trial(data: SweepData, spec: TrialSpec) -> TrialResult:
    """Cross-validate one trial; training that diverges gives ``status="diverged"``, a
    configuration chainrule refuses (a :class:`~chainrule.errors.ChainruleError`)
    ``status="failed"``, each with the reason in ``error``.

    Floating-point overflow and invalid operations raise (then count as divergence) and
    underflow is ignored, the same in every process, so results do not depend on where a
    trial runs.
    """
    scores: list[float] = []
    losses: list[float] = []
    fit_time = 0.0
    outcome: dict[str, Any] = {"status": "ok"}
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        try:
            for k in range(spec.folds):
                train, valid = data.fold != k, data.fold == k
                start = time.perf_counter()
                net, scaler = fit_network(data.X[train], data.y[train], data, spec, k)
                fit_time += time.perf_counter() - start
                X_valid = scaler.transform(data.X[valid])
                score, loss = _validate(net, X_valid, data.y[valid], data.task)
                scores.append(score)
                losses.append(loss)
        except FloatingPointError as err:  # DivergenceError included
            outcome = {"status": "diverged", "error": f"fold {k + 1}: {err}"}
        except ChainruleError as err:
            # A point the network cannot be built or trained with (hidden layers too wide for
            # the memory, say) fails the same way on every run: a result of its own, not an
            # exception that would stop a serial sweep, or that Dask would retry twice and log
            # with a traceback before leaving the trial unfinished for a re-run to fail again.
            outcome = {"status": "failed", "error": f"fold {k + 1}: {err}"}
        if outcome["status"] == "ok":
            outcome.update(
                score_mean=float(np.mean(scores)),
                score_std=float(np.std(scores)),
                loss_mean=float(np.mean(losses)),
                loss_std=float(np.std(losses)),
                fold_scores=scores,
                fold_losses=losses,
            )
    return TrialResult(
        trial_id=spec.trial_id,
        params=spec.params,
        dataset=data.name,
        folds=spec.folds,
        seed=spec.seed,
        score_name=SCORE_NAMES[data.task],
        fit_time=fit_time,
        **outcome,
    )

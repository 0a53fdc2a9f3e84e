"""Every row of the catalogue through every entry point it applies to (issue 7, bad input).

For each (case, entry point) pair:

- an expected error must be a documented chainrule exception (``estimators.*``: scikit-learn's
  ``ValueError`` contract, which ``ValidationError`` also meets) whose message matches the
  case's regex, and must not be raised from inside numpy;
- a legitimate input must work, and give what the same data as a plain C-contiguous float
  array gives (the oracle);
- the caller's arrays are byte-for-byte unchanged, writeable flags included;
- nothing takes longer than the case's time bound;
- the CLI (a real subprocess) exits 2 with one line on stderr, no traceback, and writes no
  output file (exit 0 and a file when the input is legitimate).

The CLI runs are started in the background, a few at a time, as soon as the first CLI test
needs one, so that the default run stays short on a loaded machine.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import importlib
import json
import os
import re
import resource
import subprocess
import time
import traceback
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from catalogue import CASES, ENTRY_POINTS, XOR_X, XOR_Y, Case, xor_csv_text
from reliability_figures import FIGURES, count

from chainrule.engine.network import Network
from chainrule.engine.training import Trainer, train
from chainrule.errors import ChainruleError
from cli_helpers import chainrule

CLI_TIMEOUT = 120.0
CLI_WORKERS = 3
MAX_RSS_GROWTH = 1024**3
"""No case may raise the test process's resident-memory high-water mark by more than this."""

PAIRS = [(case, ep) for case in CASES for ep in ENTRY_POINTS[case.kind]]


def _param(case: Case, ep: str) -> Any:
    marks = []
    reason = case.note(ep, case.xfails)
    if reason is not None:
        marks.append(pytest.mark.xfail(reason=reason, strict=True))
    return pytest.param(case, ep, id=f"{case.id}@{ep}", marks=marks)


# -- the things the entry points need ----------------------------------------------------------


class Context:
    """Shared, lazily built fixtures: a data file, a trained model file, fitted estimators."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.xor_csv = folder / "xor.csv"
        self.xor_csv.write_text(xor_csv_text())
        self._model: Path | None = None
        self._estimators: dict[tuple[str, int], Any] = {}

    @property
    def model_path(self) -> Path:
        """A model trained by the toolkit on :func:`xor_csv_text` (classes 'a' and 'b')."""
        if self._model is None:
            from chainrule.datasets import load_csv
            from chainrule.fit import TrainConfig, fit

            model = fit(
                load_csv(self.xor_csv), TrainConfig(hidden=(3,), epochs=2, validation_fraction=0)
            )
            self._model = self.folder / "xor-model.safetensors"
            model.save(self._model)
        return self._model

    def estimator(self, name: str, n_inputs: int) -> Any:
        """An estimator fitted on valid data with ``n_inputs`` features."""
        key = (name, n_inputs)
        if key not in self._estimators:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)  # ConvergenceWarning: 2 iterations
                self._estimators[key] = _estimator(name).fit(XOR_X[:, :n_inputs], _targets(name))
        return self._estimators[key]


def _estimator(name: str, **params: Any) -> Any:
    from chainrule.estimators import MLPClassifier, MLPRegressor

    cls = MLPClassifier if name == "MLPClassifier" else MLPRegressor
    settings = {"hidden_layer_sizes": (3,), "max_iter": 2, "random_state": 0, **params}
    return cls(**settings)


def _targets(name: str, n: int | None = None) -> np.ndarray:
    y = XOR_Y if n is None else np.arange(n) % 2
    return y.astype(np.float64) if name == "MLPRegressor" else y


def _rows(X: Any) -> int:
    try:
        return int(np.shape(X)[0]) if np.ndim(X) else 1
    except ValueError:  # ragged
        return len(X)


def _net(n_inputs: int = 2, hidden: tuple[int, ...] = (3,)) -> Network:
    sizes = [n_inputs, *hidden, 2]
    return Network(sizes, ["tanh"] * len(hidden) + ["softmax"], seed=0)


def _arrays(case: Case, value: Any) -> tuple[Any, Any]:
    """``(X, y)`` for an array case: the case's value plus valid data for the other half."""
    if case.kind == "X":
        return value, np.arange(_rows(value)) % 2
    return XOR_X, value


def _train_hyper(h: dict[str, Any]) -> list[np.ndarray]:
    net = _net(hidden=tuple(h.get("hidden", (3,))))
    train(
        net,
        XOR_X,
        XOR_Y,
        learning_rate=h.get("learning_rate", 0.1),
        batch_size=h.get("batch_size", 4),
        epochs=h.get("epochs", 2),
        seed=0,
    )
    return net.weights


def _fit_hyper(h: dict[str, Any]) -> list[np.ndarray]:
    from chainrule.datasets import Dataset
    from chainrule.fit import TrainConfig, fit

    config = TrainConfig(
        hidden=tuple(h.get("hidden", (3,))),
        learning_rate=h.get("learning_rate", 1e-3),
        batch_size=h.get("batch_size", 4),
        epochs=h.get("epochs", 2),
        validation_fraction=0,
    )
    data = Dataset(XOR_X, XOR_Y, ["x1", "x2"], "y", ["a", "b"], "classification", "xor")
    return fit(data, config).net.weights


def _fit_file(path: Path) -> list[np.ndarray]:
    from chainrule.fit import TrainConfig, fit, read_dataset

    config = TrainConfig(hidden=(3,), epochs=1, validation_fraction=0)
    return fit(read_dataset(path), config).net.weights


def _estimator_fit(name: str, case: Case, value: Any) -> Any:
    if case.kind == "hyper":
        params = {
            "hidden_layer_sizes": tuple(value.get("hidden", (3,))),
            "learning_rate_init": value.get("learning_rate", 1e-3),
            "batch_size": value.get("batch_size", 4),
            "max_iter": value.get("epochs", 2),
        }
        est = _estimator(name, **params)
        return est.fit(XOR_X, _targets(name)).predict(XOR_X)
    X, y = _arrays(case, value)
    if case.kind == "X":
        y = _targets(name, _rows(X))
    return _estimator(name).fit(X, y).predict(X)


def _read_for_model(ctx: Context, path: Path) -> Any:
    from chainrule.fit import FittedModel, read_for_model

    return read_for_model(FittedModel.load(ctx.model_path), path, need_target=True)


LIBRARY: dict[str, Callable[[Case, Any, Context], Any]] = {
    "engine.Network.forward": lambda c, v, ctx: _net(c.n_inputs).forward(v),
    "engine.Network.predict": lambda c, v, ctx: _net(c.n_inputs).predict(v),
    "engine.Network.loss_and_gradients": lambda c, v, ctx: _net(c.n_inputs).loss_and_gradients(
        *_arrays(c, v)
    )[1],
    "engine.Trainer": lambda c, v, ctx: _trainer_weights(c, v),
    "engine.train": lambda c, v, ctx: _train_hyper(v) if c.kind == "hyper" else _train_arrays(c, v),
    "fit.fit": lambda c, v, ctx: _fit_hyper(v) if c.kind == "hyper" else _fit_file(v),
    "estimators.MLPClassifier.fit": lambda c, v, ctx: _estimator_fit("MLPClassifier", c, v),
    "estimators.MLPRegressor.fit": lambda c, v, ctx: _estimator_fit("MLPRegressor", c, v),
    "estimators.MLPClassifier.predict": lambda c, v, ctx: ctx.estimator(
        "MLPClassifier", c.n_inputs
    ).predict(v),
    "estimators.MLPRegressor.predict": lambda c, v, ctx: ctx.estimator(
        "MLPRegressor", c.n_inputs
    ).predict(v),
    "datasets.load_csv": lambda c, v, ctx: _dataset_arrays(v, "csv"),
    "datasets.load_npz": lambda c, v, ctx: _dataset_arrays(v, "npz"),
    "serialization.load_model": lambda c, v, ctx: _load_model(v),
    "fit.read_for_model": lambda c, v, ctx: _read_for_model(ctx, v),
    "web.protocol.parse_message": lambda c, v, ctx: _parse_message(v),
    "web.session.upload_csv": lambda c, v, ctx: _playground(
        {"type": "upload_csv", "name": v.name, "text": v.read_text(encoding="utf-8")}
    ),
    "web.session.import_model": lambda c, v, ctx: _playground(
        {"type": "import_model", "name": v.name, "data": base64.b64encode(v.read_bytes()).decode()}
    ),
}


def _trainer_weights(case: Case, value: Any) -> list[np.ndarray]:
    net = _net(case.n_inputs)
    Trainer(net, *_arrays(case, value), batch_size=4, seed=0).fit(2)
    return net.weights


def _train_arrays(case: Case, value: Any) -> list[np.ndarray]:
    net = _net(case.n_inputs)
    train(net, *_arrays(case, value), epochs=2, batch_size=4, seed=0)
    return net.weights


def _dataset_arrays(path: Path, kind: str) -> list[Any]:
    from chainrule.datasets import load_csv, load_npz

    data = load_csv(path) if kind == "csv" else load_npz(path)
    return [data.X, data.y, data.classes]


def _load_model(path: Path) -> list[np.ndarray]:
    from chainrule.serialization import load_model

    return list(load_model(path).weights)


def _playground(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Send ``message`` as a page would: JSON text, the decoder, then a fresh session."""
    from chainrule.web.protocol import parse_message
    from chainrule.web.session import Session

    sent: list[dict[str, Any]] = []

    async def send(reply: dict[str, Any]) -> None:
        sent.append(reply)

    async def exchange() -> None:
        session = Session(send)
        try:
            await session.handle(parse_message(json.dumps(message)))
        finally:
            await session.close()

    asyncio.run(exchange())
    return sent


def _parse_message(text: Any) -> Any:
    from chainrule.web.protocol import parse_message

    return parse_message(text)


# -- checks -----------------------------------------------------------------------------------


def _fingerprint(value: Any) -> Any:
    """Everything about the caller's input that a function could change."""
    if isinstance(value, np.ndarray):
        data = value.tobytes() if value.dtype != object else repr(value.tolist()).encode()
        return (value.shape, value.dtype.str, value.strides, value.flags.writeable, data)
    if isinstance(value, list | tuple | dict):
        return repr(copy.deepcopy(value))
    return repr(value)


def _plain(value: Any) -> Any:
    """The oracle's input: the same values as a fresh C-contiguous array."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "iu":
        return np.ascontiguousarray(value)
    if isinstance(value, np.ndarray) and value.dtype.kind in "bf":
        return np.ascontiguousarray(value, dtype=np.float64)
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, np.ndarray):
        return a.shape == np.shape(b) and bool(np.array_equal(a, b))
    return bool(a == b)


def _raised_inside_numpy(err: BaseException) -> bool:
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and f"{os.sep}numpy{os.sep}" in frames[-1].filename


def _check_error(case: Case, ep: str, expected: type[ChainruleError], err: BaseException) -> None:
    allowed: type[BaseException] = expected
    if ep.startswith("estimators.") and issubclass(expected, ValueError):
        allowed = ValueError  # scikit-learn's own validation raises plain ValueError
    if ep.startswith("web.session."):
        from chainrule.web.protocol import ProtocolError

        allowed = ProtocolError  # what the page is sent, whatever the cause
    assert isinstance(err, allowed), (
        f"{case.id} at {ep}: expected {allowed.__name__}, got {type(err).__name__}: {err}"
    )
    assert not _raised_inside_numpy(err), f"{case.id} at {ep}: raised from numpy internals"
    match = case.outcome(ep)[1]
    assert match, "an expected error needs a message regex"
    assert re.search(match, str(err)), (
        f"{case.id} at {ep}: message {str(err)!r} does not match {match!r}"
    )


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Context:
    # Import what the entry points use now, not inside a case's time bound.
    for module in ("chainrule.estimators", "chainrule.fit", "chainrule.web.session"):
        importlib.import_module(module)
    return Context(tmp_path_factory.mktemp("bad-input-shared"))


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("case", "ep"), [_param(c, ep) for c, ep in PAIRS if not ep.startswith("cli.")]
)
def test_library_entry_point(case: Case, ep: str, ctx: Context, tmp_path: Path) -> None:
    reason = case.note(ep, case.skips)
    if reason is not None:
        count("bad_input_skipped", ep)
        pytest.skip(f"recorded as not covered: {reason}")
    expected, _ = case.outcome(ep)
    value = case.make(tmp_path)
    before = _fingerprint(value)
    run = LIBRARY[ep]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with warnings.catch_warnings():
        # batch size clipped, scikit-learn's ConvergenceWarning (a UserWarning)
        warnings.simplefilter("ignore", UserWarning)
        if expected is None:
            result = run(case, value, ctx)
        else:
            with pytest.raises(Exception) as info:
                run(case, value, ctx)
    elapsed = time.perf_counter() - started
    assert elapsed < case.max_seconds, f"{case.id} at {ep} took {elapsed:.1f} s"
    # ru_maxrss (KiB) is the process's high-water mark: a case that needed much more memory
    # than any before it raises it.
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) * 1024
    assert grown < MAX_RSS_GROWTH, f"{case.id} at {ep} took {grown / 1e9:.1f} GB more memory"
    assert _fingerprint(value) == before, f"{case.id} at {ep} changed the caller's input"
    if expected is not None:
        _check_error(case, ep, expected, info.value)
    elif case.kind in ("X", "y"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            reference = run(case, _plain(value), ctx)
        assert _same(result, reference), f"{case.id} at {ep}: result differs from the oracle's"
    count("bad_input_cases", ep)


# -- the command line ---------------------------------------------------------------------------


def _cli_argv(case: Case, ep: str, value: Any, ctx: Context, out: Path) -> list[str]:
    if ep == "cli.train":
        if case.kind == "hyper":
            argv = ["train", str(ctx.xor_csv), "--validation-fraction", "0"]
            flags = {"learning_rate": "--lr", "batch_size": "--batch-size", "epochs": "--epochs"}
            for key, flag in flags.items():
                if key in value:
                    argv += [flag, repr(value[key])]
            if "epochs" not in value:
                argv += ["--epochs", "2"]
            argv += ["--hidden", ",".join(map(str, value.get("hidden", (3,))))]
        else:
            argv = ["train", str(value), "--epochs", "1", "--hidden", "3"]
            argv += ["--validation-fraction", "0"]
        return [*argv, "-o", str(out / "model.safetensors")]
    if ep == "cli.export":
        return ["export", str(value), "-o", str(out / "model.onnx")]
    if ep == "cli.explain":
        return ["explain", "--weights", str(value), "--x", "1,2"]
    model, data = (value, ctx.xor_csv) if case.kind == "model" else (ctx.model_path, value)
    if ep == "cli.predict":
        return ["predict", str(model), str(data), "-o", str(out / "predictions.csv")]
    return ["evaluate", str(model), str(data)]


FULL = os.environ.get("CHAINRULE_RELIABILITY_FULL", "") not in ("", "0")
"""Run every catalogue row through the CLI; by default a sample (each is a new interpreter)."""
CLI_SAMPLE = 2
"""Default run: rows per (CLI entry point, kind, expected outcome), in catalogue order."""


def _cli_pairs() -> list[tuple[Case, str, bool]]:
    """Every CLI pair, and whether the default run runs it."""
    seen: dict[tuple[str, str, Any], int] = {}
    pairs = []
    for case, ep in PAIRS:
        if ep.startswith("cli."):
            group = (ep, case.kind, case.outcome(ep)[0])
            seen[group] = seen.get(group, 0) + 1
            pairs.append((case, ep, FULL or case.cli_always or seen[group] <= CLI_SAMPLE))
    return pairs


CLI_PAIRS = [(c, ep) for c, ep, run in _cli_pairs() if run]
CLI_DEFERRED = [(c, ep) for c, ep, run in _cli_pairs() if not run]


class CliRuns:
    """Starts every CLI case in the background; each test waits for its own."""

    def __init__(self, folder: Path, ctx: Context, selected: set[str]) -> None:
        self.pool = ThreadPoolExecutor(CLI_WORKERS)
        self.jobs: dict[str, tuple[Future[Any], Path, float]] = {}
        for case, ep in CLI_PAIRS:
            key = f"{case.id}@{ep}"
            if key not in selected:
                continue
            work = folder / key.replace("@", "_")
            out = work / "out"
            out.mkdir(parents=True)
            argv = _cli_argv(case, ep, case.make(work), ctx, out)
            self.jobs[key] = (self.pool.submit(self._timed, argv, work), out, 0.0)

    @staticmethod
    def _timed(argv: list[str], cwd: Path) -> tuple[subprocess.CompletedProcess[str], float]:
        started = time.perf_counter()
        result = chainrule(*argv, cwd=cwd, timeout=CLI_TIMEOUT)
        return result, time.perf_counter() - started

    def result(self, key: str) -> tuple[subprocess.CompletedProcess[str], float, Path]:
        future, out, _ = self.jobs[key]
        result, seconds = future.result(timeout=CLI_TIMEOUT * 2)
        return result, seconds, out


@pytest.fixture(scope="module", autouse=True)
def cli_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, ctx: Context
) -> Iterator[CliRuns | None]:
    """Started with the module when CLI cases are selected, to overlap the library cases."""
    selected = {
        item.callspec.id
        for item in request.session.items
        if isinstance(item, pytest.Function) and item.originalname == "test_cli_entry_point"
    }
    if not selected:
        yield None
        return
    runs = CliRuns(tmp_path_factory.mktemp("bad-input-cli"), ctx, selected)
    yield runs
    runs.pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("case", "ep"), [_param(c, ep) for c, ep in CLI_PAIRS])
def test_cli_entry_point(case: Case, ep: str, cli_runs: CliRuns | None) -> None:
    assert cli_runs is not None
    reason = case.note(ep, case.skips)
    if reason is not None:
        count("bad_input_skipped", ep)
        pytest.skip(f"recorded as not covered: {reason}")
    result, seconds, out = cli_runs.result(f"{case.id}@{ep}")
    expected, match = case.outcome(ep)
    assert "Traceback" not in result.stderr, result.stderr
    assert seconds < case.max_seconds + 15, f"{case.id} at {ep} took {seconds:.1f} s"
    written = sorted(p.name for p in out.iterdir())
    if expected is None:
        assert result.returncode == 0, result.stderr
        if ep != "cli.evaluate":
            assert len(written) == 1, written  # the output file, and no temporary file
    else:
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 2, (result.returncode, result.stderr)
        assert len(lines) == 1, result.stderr
        assert re.search(match, lines[0]), f"{lines[0]!r} does not match {match!r}"
        assert re.match(r"chainrule( \w+)?: error: ", lines[0]), lines[0]
        assert written == [], f"{case.id} at {ep} left {written}"
        assert result.stdout == ""
    count("bad_input_cases", ep)


@pytest.mark.parametrize(
    ("case", "ep"), [pytest.param(c, ep, id=f"{c.id}@{ep}") for c, ep in CLI_DEFERRED]
)
def test_cli_entry_point_deferred(case: Case, ep: str) -> None:
    count("bad_input_skipped", ep)
    pytest.skip(
        "CLI sample: the same outcome is checked on other rows here and on this row in-process; "
        "CHAINRULE_RELIABILITY_FULL=1 runs it"
    )


# -- the figures --------------------------------------------------------------------------------


def test_zz_case_counts(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The count per entry point (run last in this module): JSON file and a printed summary."""
    cases = FIGURES["bad_input_cases"]
    if not cases:
        pytest.skip("no catalogue case ran (deselected)")
    path = tmp_path_factory.getbasetemp() / "bad-input-counts.json"
    counts = {"per_entry_point": dict(sorted(cases.items())), "total": sum(cases.values())}
    counts["not_covered"] = dict(FIGURES["bad_input_skipped"])
    path.write_text(json.dumps(counts, indent=1))
    print(f"\nbad-input cases per entry point ({path}):")
    for ep, n in sorted(cases.items()):
        print(f"  {ep:40s} {n}")
    print(f"  {'total':40s} {sum(cases.values())}")
    if len(cases) == len({ep for _, ep in PAIRS}):  # the whole catalogue ran
        assert sum(cases.values()) >= 60

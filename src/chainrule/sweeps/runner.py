"""Run a sweep: serially in this process, or as Dask tasks on a local or remote cluster."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TextIO

from chainrule._atomic import check_output_path
from chainrule.errors import ValidationError
from chainrule.serialization import save_model
from chainrule.sweeps.config import SweepConfig, load_config
from chainrule.sweeps.errors import ResultsFileError, SchedulerError, SweepInterrupted
from chainrule.sweeps.results import ResultsFile
from chainrule.sweeps.trial import (
    SweepData,
    TrialResult,
    TrialSpec,
    fit_network,
    is_finite_number,
    make_trials,
    prepare_data,
    run_trial,
)

Progress = Literal["auto", "bar", "lines", "none"]
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")
"""Address schemes of a remote scheduler (inproc is one process only; ucx needs its own setup)."""


@dataclass
class SweepResult:
    """What :func:`sweep` did.

    Attributes
    ----------
    trials:
        The results of this sweep's trials that finished (now or in an earlier run), in the
        config's order.
    best:
        The trial with the highest mean validation score (ties: lower loss, then id), or None.
    computed, skipped:
        How many trials ran now, and how many were already in the results file.
    unfinished:
        ``(trial_id, reason)`` for trials that could not run (e.g. workers kept dying);
        re-running the same command retries them.
    results_path, model_path:
        The results file, and the best model's file (None when not saved).
    """

    trials: list[TrialResult]
    best: TrialResult | None
    computed: int
    skipped: int
    unfinished: list[tuple[str, str]] = field(default_factory=list)
    results_path: Path | None = None
    model_path: Path | None = None

    def summary(self) -> str:
        """A few lines for a person: counts, the best trial and where things were saved."""
        lines = [
            f"{len(self.trials)} trials finished ({self.computed} now, {self.skipped} from "
            f"earlier runs), {len(self.unfinished)} unfinished; results in {self.results_path}"
        ]
        if self.best is None:
            lines.append("no trial finished without diverging or failing")
        else:
            lines.append(f"best: {self.best.describe()}")
        if self.model_path is not None:
            lines.append(f"best model (retrained on all data): {self.model_path}")
        for failed in self.trials:
            if failed.status == "failed":
                lines.append(f"failed {failed.trial_id}: {failed.error}")
        for trial, reason in self.unfinished:
            lines.append(f"unfinished {trial}: {reason} (re-run to retry)")
        return "\n".join(lines)


def best_trial(trials: list[TrialResult]) -> TrialResult | None:
    """Highest mean score; ties broken by lower mean loss, then by trial id."""
    ok = [t for t in trials if t.status == "ok"]
    if not ok:
        return None
    return min(ok, key=lambda t: (-(t.score_mean or 0.0), t.loss_mean or 0.0, t.trial_id))


class _Reporter:
    """A progress bar on a terminal, one plain line per trial otherwise."""

    def __init__(
        self, mode: Progress, total: int, previous: list[TrialResult], stream: TextIO
    ) -> None:
        if mode not in ("auto", "bar", "lines", "none"):
            raise ValidationError(f"progress must be one of auto, bar, lines, none; got {mode!r}")
        if mode == "auto":
            mode = "bar" if stream.isatty() else "lines"
        self.mode, self.total, self.done, self.stream = mode, total, len(previous), stream
        self.best = best_trial(previous)
        if mode != "none" and previous:
            print(f"{len(previous)} of {total} trials already in the results file", file=stream)

    def update(self, result: TrialResult) -> None:
        self.done += 1
        self.best = best_trial([t for t in (self.best, result) if t is not None])
        if self.mode == "lines":
            print(f"[{self.done}/{self.total}] {result.describe()}", file=self.stream, flush=True)
        elif self.mode == "bar":
            width = 30
            filled = width * self.done // max(self.total, 1)
            best = (
                ""
                if self.best is None
                else (f"  best {self.best.score_name} {self.best.score_mean:.4f}")
            )
            bar = "#" * filled + "." * (width - filled)
            print(f"\r[{bar}] {self.done}/{self.total}{best}", end="", file=self.stream, flush=True)

    def finish(self) -> None:
        if self.mode == "bar":
            print(file=self.stream)


# -- where trials run ------------------------------------------------------------------------


def _run_serial(data: SweepData, specs: list[TrialSpec]) -> Generator[TrialResult, None, None]:
    for spec in specs:
        yield run_trial(data, spec)


def _run_dask(
    client: Any, data: SweepData, specs: list[TrialSpec], unfinished: list[tuple[str, str]]
) -> Generator[TrialResult, None, None]:
    """Submit every trial, then yield results in completion order.

    The data go to the cluster once, as a task of their own (if the worker holding them dies,
    the scheduler recomputes it from the task). Trials are ``pure=False`` with ``retries=2``;
    a trial whose worker dies is rescheduled by the scheduler, and ``as_completed`` yields each
    future once, so none is lost or counted twice.
    """
    as_completed = _distributed().as_completed
    data_future = client.submit(_identity, data, pure=False)
    futures = {
        client.submit(run_trial, data_future, spec, pure=False, retries=2): spec for spec in specs
    }
    try:
        for future in as_completed(futures):
            spec = futures[future]
            try:
                result: TrialResult = future.result()
            except Exception as err:  # e.g. KilledWorker: left for a re-run
                unfinished.append((spec.trial_id, f"{type(err).__name__}: {err}"))
                continue
            yield result
    finally:
        client.cancel([*futures, data_future])


def _distributed() -> Any:
    """``distributed``, imported on first use (it is optional and slow to import)."""
    return importlib.import_module("distributed")


def _quiet_worker_logs() -> None:
    """Run on each worker before the local cluster closes."""
    logging.getLogger("distributed").setLevel(logging.CRITICAL)


def _identity(data: SweepData) -> SweepData:
    """The data task: its result is the data, kept on a worker for the trials to fetch."""
    return data


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread meanwhile, and for good in the threads it starts meanwhile.

    Threads and processes inherit the signal mask of the thread that starts them, and a
    process keeps it across ``exec``. A Ctrl-C at a terminal signals the whole process group;
    with SIGINT blocked there, it reaches only this process, which stops the sweep cleanly
    and keeps every finished trial, rather than every worker dying mid-task with a
    traceback. A SIGINT sent to this process meanwhile waits, and is raised when the block
    is lifted. Where masks do not exist (Windows), or off the main thread, nothing changes.
    """
    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not (
        threading.main_thread()
    ):
        yield
        return
    # multiprocessing starts its resource tracker on first need and then *unblocks* SIGINT in
    # the thread that needed it (the cluster's event loop): have it started beforehand.
    from multiprocessing import resource_tracker

    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def local_cluster(n_workers: int) -> Any:
    """The default cluster: ``n_workers`` single-threaded worker processes on 127.0.0.1 only.

    Its event-loop thread, and the worker processes that thread starts (at first, or to
    replace one that died), never receive SIGINT: see :func:`_sigint_blocked`.
    """
    with _sigint_blocked():
        return _distributed().LocalCluster(
            n_workers=n_workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # ":0" would listen on every interface
            silence_logs=logging.ERROR,  # an int: the string "error" kills the workers
        )


@contextmanager
def _dask_client(scheduler: Any, n_workers: int, connect_timeout: float) -> Iterator[Any]:
    """A client for ``scheduler``: None starts (and then closes) a local cluster."""
    client_type = _distributed().Client
    if scheduler is None:
        cluster = local_cluster(n_workers)
        try:
            with client_type(cluster) as client:
                try:
                    yield client
                finally:
                    # The cluster closes next: a worker (one still running a trial, when
                    # interrupted) can outlive the scheduler by a moment and log at ERROR that
                    # its heartbeat failed, with a traceback. Expected at the end; hush it.
                    client.run(_quiet_worker_logs, on_error="ignore")
        finally:
            cluster.close()
        return
    if isinstance(scheduler, client_type):
        yield scheduler
        return
    if isinstance(scheduler, str) and scheduler.startswith("tcp://"):
        _probe_scheduler(scheduler, connect_timeout)
    try:
        client = client_type(scheduler, timeout=connect_timeout)
    except Exception as err:  # OSError, TimeoutError; TypeError for tls:// without certificates
        raise _unreachable(scheduler, connect_timeout, _reason(err)) from None
    with client:
        yield client


def _reason(err: BaseException) -> str:
    """An exception as one line, its type first unless it is a plain ``OSError``."""
    text = " ".join(str(err).split())
    if type(err) in (OSError, TimeoutError) and text:
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _unreachable(scheduler: Any, timeout: float, reason: str) -> SchedulerError:
    return SchedulerError(
        f"cannot reach the Dask scheduler at {scheduler} within {timeout:g} s ({reason}); start "
        "one with 'dask scheduler' or omit --scheduler to use a local cluster"
    )


def _probe_scheduler(address: str, timeout: float) -> None:
    """Complete Dask's handshake with ``address`` within ``timeout`` seconds, or raise.

    ``Client`` bounds only the connection by its timeout. A service other than a Dask
    scheduler at that port (a web server, the scheduler's dashboard) takes the connection and
    never answers the handshake, and the client waits forever; one that answers with other
    bytes has them read as a message length (exabytes: ``MemoryError``). Only ``tcp://`` is
    probed: it needs no security settings, and TLS and WebSocket peers fail their own
    handshake. The probe runs its own event loop in a thread of its own, so it also works
    where the calling thread runs one (Jupyter).

    Raises
    ------
    SchedulerError
        Naming the address, the timeout and what went wrong.
    """
    connect = importlib.import_module("distributed.comm").connect
    failure: list[BaseException] = []

    async def handshake() -> None:
        comm = await connect(address, timeout=timeout)
        await comm.close()

    def probe() -> None:
        try:
            asyncio.run(asyncio.wait_for(handshake(), timeout))
        except BaseException as err:  # handed to the calling thread
            failure.append(err)

    thread = threading.Thread(target=probe, name="chainrule-scheduler-probe", daemon=True)
    thread.start()
    thread.join()
    if not failure:
        return
    err = failure[0]
    if isinstance(err, asyncio.TimeoutError):  # the handshake got no answer in time
        reason = (
            "no Dask scheduler answered there; check the host and the port: the scheduler "
            "listens on 8786 by default, its dashboard on 8787"
        )
    elif isinstance(err, OSError):
        reason = _reason(err)
    elif isinstance(err, MemoryError):  # bytes of another protocol read as a length
        reason = "it answered, but not as a Dask scheduler: its reply is no Dask message"
    elif isinstance(err, Exception):
        reason = f"it answered, but not as a Dask scheduler: {_reason(err)}"
    else:
        raise err
    raise _unreachable(address, timeout, reason)


def is_seconds(value: object) -> bool:
    """True for a positive, finite number: Dask refuses other timeouts with a traceback."""
    return is_finite_number(value) and value > 0  # type: ignore[operator]


def _address_problem(address: str) -> str | None:
    """What keeps ``address`` from being a scheduler's ``SCHEME://HOST:PORT``, or None.

    Dask itself answers a wrong scheme, a port that is no number or an empty host with a
    ``ValueError`` or ``TypeError`` traceback, or waits out the timeout.
    """
    scheme, separator, location = address.partition("://")
    if not separator:
        return "no SCHEME:// in front"
    if scheme not in SCHEDULER_SCHEMES:
        return f"the scheme must be one of {', '.join(SCHEDULER_SCHEMES)}; got {scheme!r}"
    if location.startswith("["):  # an IPv6 host, [::1]: its colons are not the port's
        bracketed, _, after = location.partition("]")
        host, (_, colon, port) = bracketed + "]", after.partition(":")
    else:
        host, colon, port = location.rpartition(":")
    if not colon or not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        return f"the port must be a number from 1 to 65535; got {port if colon else ''!r}"
    if not host.strip("[]"):
        return "the host is missing"
    return None


def _check_scheduler(scheduler: Any) -> None:
    """Refuse, before any work, a ``scheduler`` that is none of the kinds :func:`sweep` takes."""
    if scheduler is None or scheduler == "serial":
        return
    if isinstance(scheduler, str):
        problem = _address_problem(scheduler)
        if problem is not None:
            raise ValidationError(
                "scheduler must be an address like tcp://HOST:PORT, or 'serial'; got "
                f"{scheduler!r} ({problem})"
            )
        return
    distributed = _distributed()
    if not isinstance(scheduler, distributed.Client | distributed.deploy.Cluster):
        raise ValidationError(
            "scheduler must be None (a local cluster), 'serial', an address like "
            f"tcp://HOST:PORT, a distributed.Client or a Dask cluster; got "
            f"{type(scheduler).__name__} {scheduler!r}"
        )


def _check_params(
    specs: list[TrialSpec], finished: Mapping[str, TrialResult], results_path: Path
) -> None:
    """Refuse a record whose parameters are not those of the trial its id names.

    The id is a hash of the parameters, so only a hand edit parts them; the record would be
    reported (and ranked) with parameters that were never trained, and its id's model saved.
    """
    for spec in specs:
        record = finished.get(spec.trial_id)
        if record is None or record.params == spec.params:
            continue
        changed = ", ".join(
            f"{key} {record.params.get(key)!r} (the trial's: {spec.params.get(key)!r})"
            for key in {**spec.params, **record.params}
            if record.params.get(key) != spec.params.get(key)
        )
        raise ResultsFileError(
            f"results file {str(results_path)!r}: the record of trial {spec.trial_id} has "
            f"{changed}; the line was edited: fix it, or remove it to rerun the trial"
        )


def default_results_path(config: SweepConfig) -> Path:
    """Next to the config file: ``sweep.toml`` -> ``sweep.results.jsonl`` (else the cwd)."""
    if config.source is None:
        return Path("sweep.results.jsonl")
    return config.source.with_name(f"{config.source.stem}.results.jsonl")


def default_model_path(results: Path) -> Path:
    """Next to the results file: ``runs/a.jsonl`` -> ``runs/a.best.safetensors``."""
    return results.with_name(f"{results.stem}.best.safetensors")


def save_best_model(data: SweepData, best: TrialResult, spec: TrialSpec, path: Path) -> None:
    """Retrain the best trial's configuration on all the data and save it as a model file.

    The standardisation is fitted on all the data and stored in ``preprocessing`` (as
    :meth:`Standardizer.to_dict`); ``training`` records the parameters, the CV scores and the
    data's feature names.
    """
    net, scaler = fit_network(data.X, data.y, data, spec, spec.folds)
    assert net.loss is not None
    save_model(
        path,
        weights=net.weights,
        activations=net.activation_functions,
        loss=net.loss.name,
        classes=data.classes,
        task=data.task,
        preprocessing={"standardizer": scaler.to_dict()},
        training={
            **best.params,
            "trial_id": best.trial_id,
            "dataset": data.name,
            # as 'chainrule train' records them: evaluate and predict pick columns by name
            "feature_names": data.feature_names,
            "seed": spec.seed,
            "cv_folds": spec.folds,
            f"cv_{best.score_name}_mean": best.score_mean,
            f"cv_{best.score_name}_std": best.score_std,
        },
    )


def sweep(
    config_or_path: str | os.PathLike[str] | Mapping[str, Any] | SweepConfig,
    *,
    scheduler: Any = None,
    results: str | os.PathLike[str] | None = None,
    n_workers: int = 2,
    progress: Progress = "auto",
    output_model: str | os.PathLike[str] | Literal[False] | None = None,
    connect_timeout: float = 10.0,
    stream: TextIO | None = None,
) -> SweepResult:
    """Run a hyper-parameter sweep; see :mod:`chainrule.sweeps` for the config and the cluster.

    Parameters
    ----------
    config_or_path:
        A ``.toml``/``.yaml`` path, a parsed mapping or a :class:`SweepConfig`.
    scheduler:
        None: start a ``LocalCluster`` of ``n_workers`` processes on 127.0.0.1, closed at the
        end. ``"tcp://HOST:PORT"``: use that running cluster. A ``distributed.Client``: use it.
        ``"serial"``: run every trial here, one after another (same results).
    results:
        ``.jsonl`` (default, next to the config) or ``.csv``; trials already in it are skipped.
    progress:
        ``"auto"`` (a bar on a terminal, plain lines otherwise), ``"bar"``, ``"lines"``,
        ``"none"``; written to ``stream`` (default ``sys.stderr``).
    output_model:
        Where to save the best configuration retrained on all data (default: next to the
        results file, ``NAME.best.safetensors``); ``False`` saves nothing.
    connect_timeout:
        Seconds to wait for a remote scheduler before giving up (a positive, finite number).

    Raises
    ------
    SweepInterrupted
        A :class:`KeyboardInterrupt` while trials run; it says how many are kept, and where.
    SweepConfigError
        For an unknown key or a bad value in the config (nothing is written).
    SchedulerError
        When the scheduler cannot be reached (the results file is left untouched).
    ResultsFileError
        When the results file holds a damaged line other than a torn last one.
    """
    config = (
        config_or_path if isinstance(config_or_path, SweepConfig) else load_config(config_or_path)
    )
    _check_scheduler(scheduler)
    if isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1:
        raise ValidationError(f"n_workers must be an integer >= 1; got {n_workers!r}")
    if not is_seconds(connect_timeout):
        raise ValidationError(
            f"connect_timeout must be a positive, finite number of seconds; got {connect_timeout!r}"
        )
    if output_model:  # before any trial: the model is written at the end, hours later
        check_output_path(output_model, "output_model")
    results_path = Path(results) if results is not None else default_results_path(config)
    store = ResultsFile(results_path)
    previous = store.read()
    data = prepare_data(config)
    specs = make_trials(config, data)
    todo = [spec for spec in specs if spec.trial_id not in previous]
    if todo:  # a finished sweep only reads the file: it may lie where nothing can be written
        store.check_writable()
    finished = {
        spec.trial_id: previous[spec.trial_id] for spec in specs if spec.trial_id in previous
    }
    _check_params(specs, finished, results_path)
    reporter = _Reporter(progress, len(specs), list(finished.values()), stream or sys.stderr)
    others = len(previous) - len(finished)
    if others and reporter.mode != "none":
        print(  # a shared file, else read back as this sweep's trials
            f"{results_path} also holds {others} record{'s' * (others != 1)} of other sweeps "
            "(another space, data, folds, seed or dtype), left as they are",
            file=reporter.stream,
        )
    if config.n_trials is not None and len(specs) < config.n_trials and reporter.mode != "none":
        print(  # else "8 trials" asked for and 3 run would look like trials lost
            f"search.n_trials = {config.n_trials} drew {len(specs)} distinct points of the "
            "space (a point drawn twice is one trial)",
            file=reporter.stream,
        )
    unfinished: list[tuple[str, str]] = []
    if todo:
        try:
            with _runner(
                scheduler=scheduler,
                n_workers=n_workers,
                connect_timeout=connect_timeout,
                data=data,
                todo=todo,
                unfinished=unfinished,
            ) as stream_of:
                store.open()
                try:
                    for result in stream_of:
                        if result.trial_id in finished:
                            continue  # never written twice
                        store.append(result)
                        finished[result.trial_id] = result
                        reporter.update(result)
                finally:
                    store.close()
                    reporter.finish()
        except KeyboardInterrupt as interrupt:
            # Counted from the file: Ctrl-C may land between writing a trial and noting it.
            kept = ResultsFile(results_path).read()
            n_kept = sum(spec.trial_id in kept for spec in specs)
            raise SweepInterrupted(n_kept, len(specs), results_path) from interrupt
    trials = [finished[spec.trial_id] for spec in specs if spec.trial_id in finished]
    best = best_trial(trials)
    model_path = None
    if best is not None and output_model is not False:
        model_path = Path(output_model) if output_model else default_model_path(results_path)
        spec = next(spec for spec in specs if spec.trial_id == best.trial_id)
        try:
            save_best_model(data, best, spec, model_path)
        except KeyboardInterrupt as interrupt:  # retraining on all data can take a while
            raise SweepInterrupted(len(trials), len(specs), results_path) from interrupt
    return SweepResult(
        trials,
        best,
        computed=len(trials) - (len(specs) - len(todo)),
        skipped=len(specs) - len(todo),
        unfinished=unfinished,
        results_path=results_path,
        model_path=model_path,
    )


@contextmanager
def _runner(
    *,
    scheduler: Any,
    n_workers: int,
    connect_timeout: float,
    data: SweepData,
    todo: list[TrialSpec],
    unfinished: list[tuple[str, str]],
) -> Iterator[Generator[TrialResult, None, None]]:
    """The stream of results, from this process or from a Dask cluster (connected first)."""
    if scheduler == "serial":
        yield _run_serial(data, todo)
        return
    with _dask_client(scheduler, n_workers, connect_timeout) as client:
        results = _run_dask(client, data, todo, unfinished)
        try:
            yield results
        finally:
            results.close()  # cancels what is still queued (e.g. after Ctrl-C)

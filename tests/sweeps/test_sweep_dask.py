"""Sweeps on a real Dask LocalCluster (2 worker processes): same results, no lost trials."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sweep_helpers import read_records, without_time

from chainrule.sweeps import load_config, local_cluster, make_trials, prepare_data, sweep

pytestmark = pytest.mark.dask


def test_cluster_sweep_equals_the_serial_sweep(
    dask_client: Any, tiny_config: Path, tmp_path: Path
) -> None:
    address = dask_client.scheduler.address  # as --scheduler gives it: probed, then connected
    assert address.startswith("tcp://127.0.0.1:")
    on_cluster = sweep(
        tiny_config, scheduler=address, results=tmp_path / "c.jsonl", progress="none"
    )
    serial = sweep(tiny_config, scheduler="serial", results=tmp_path / "s.jsonl", progress="none")
    cluster_records = without_time(read_records(tmp_path / "c.jsonl"))
    assert len(cluster_records) == 4
    assert cluster_records == without_time(read_records(tmp_path / "s.jsonl"))
    assert on_cluster.best is not None and serial.best is not None
    assert on_cluster.best.trial_id == serial.best.trial_id
    assert on_cluster.unfinished == []


def test_rerun_on_the_cluster_resumes_and_then_computes_nothing(
    dask_client: Any, tiny_config: Path, tmp_path: Path
) -> None:
    reference = tmp_path / "s.jsonl"
    sweep(tiny_config, scheduler="serial", results=reference, progress="none", output_model=False)
    results = tmp_path / "c.jsonl"
    results.write_text("".join(reference.read_text().splitlines(keepends=True)[:2]))
    resumed = sweep(
        tiny_config, scheduler=dask_client, results=results, progress="none", output_model=False
    )
    assert resumed.computed == 2 and resumed.skipped == 2
    assert without_time(read_records(results)) == without_time(read_records(reference))
    before = results.read_bytes()
    again = sweep(tiny_config, scheduler=dask_client, results=results, progress="none")
    assert again.computed == 0 and again.skipped == 4
    assert results.read_bytes() == before


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_gridsearchcv_over_the_estimator_runs_on_dask_with_the_same_scores(
    dask_client: Any,
) -> None:
    joblib = pytest.importorskip("joblib")
    from sklearn.datasets import load_iris
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from chainrule.estimators import MLPClassifier

    X, y = load_iris(return_X_y=True)
    estimator = make_pipeline(
        StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), max_iter=15, random_state=0)
    )
    grid = {
        "mlpclassifier__learning_rate_init": [0.01, 0.05],
        "mlpclassifier__activation": ["tanh", "relu"],
    }
    local = GridSearchCV(estimator, grid, cv=2).fit(X, y)
    with joblib.parallel_config(backend="dask"):
        distributed = GridSearchCV(estimator, grid, cv=2, n_jobs=-1).fit(X, y)
    prefixes = dask_client.run_on_scheduler(
        lambda dask_scheduler: list(dask_scheduler.task_prefixes)
    )
    assert any(p.startswith("batch_of__fit_and_score") for p in prefixes)  # ran on the cluster
    assert distributed.cv_results_["params"] == local.cv_results_["params"]
    assert list(distributed.cv_results_["mean_test_score"]) == list(
        local.cv_results_["mean_test_score"]
    )
    assert distributed.best_params_ == local.best_params_
    assert local.best_score_ > 0.7


SLOW = {
    "dataset": "iris",
    "folds": 2,
    "space": {
        "hidden_layers": [[8]],
        "activation": ["tanh", "relu"],
        "learning_rate": [0.01, 0.02, 0.03],
        "batch_size": 2,
        "epochs": 12,
    },
}


def test_a_worker_killed_mid_sweep_loses_and_duplicates_no_trial(
    dask_client: Any, tmp_path: Path
) -> None:
    results = tmp_path / "k.jsonl"
    killed: dict[str, Any] = {}
    pids = dask_client.run(os.getpid)  # worker address -> process id

    def kill_a_busy_worker() -> None:
        # Once one trial is on disk, SIGKILL a worker process that is running another one.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if results.exists() and results.read_bytes().count(b"\n") >= 1:
                for address, keys in dask_client.processing().items():
                    trials = [k for k in keys if str(k).startswith("run_trial")]
                    if trials:
                        os.kill(pids[address], signal.SIGKILL)
                        killed.update(address=address, trials=trials)
                        return
            time.sleep(0.01)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    try:
        outcome = sweep(
            SLOW, scheduler=dask_client, results=results, progress="none", output_model=False
        )
    finally:
        killer.join()
    assert killed, "no worker was caught running a trial"
    expected = {t.trial_id for t in make_trials(load_config(SLOW), prepare_data(load_config(SLOW)))}
    ids = [r["trial_id"] for r in read_records(results)]
    assert len(ids) == len(set(ids)) == 6
    assert set(ids) == expected
    assert outcome.unfinished == [] and outcome.computed == 6
    assert all(r["status"] == "ok" for r in read_records(results))


def sigint_blocked() -> bool:
    """Whether SIGINT is blocked in the calling thread (run on a worker by ``client.run``)."""
    return signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, set())


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="no signal masks")
def test_local_cluster_workers_leave_ctrl_c_to_the_sweep() -> None:
    # Ctrl-C signals the whole process group; the workers, first and restarted, must ignore it
    # so that only the sweep stops (cleanly), while this process keeps receiving it.
    distributed = pytest.importorskip("distributed")
    with local_cluster(1) as cluster, distributed.Client(cluster) as client:
        assert not sigint_blocked()
        assert list(client.run(sigint_blocked).values()) == [True]
        client.restart()  # new worker processes, started by the cluster's own thread
        assert list(client.run(sigint_blocked).values()) == [True]


def test_a_configuration_chainrule_refuses_fails_once_on_the_cluster(
    dask_client: Any, tmp_path: Path
) -> None:
    """Recorded as a failed trial, the same as serially, not raised on the worker (which Dask
    would retry twice, logging a traceback each time, then leave unfinished for ever)."""
    config = tmp_path / "refused.toml"
    config.write_text(
        'dataset = { name = "xor", n_samples = 40 }\nfolds = 2\n\n[space]\n'
        "hidden_layers = [[4], [1000000000000]]\nepochs = [2]\n",
        encoding="utf-8",
    )
    outcome = sweep(config, scheduler=dask_client, results=tmp_path / "c.jsonl", progress="none")
    assert outcome.unfinished == []
    assert sorted(t.status for t in outcome.trials) == ["failed", "ok"]
    serial = sweep(config, scheduler="serial", results=tmp_path / "s.jsonl", progress="none")
    assert without_time(read_records(tmp_path / "c.jsonl")) == without_time(
        read_records(tmp_path / "s.jsonl")
    )
    assert outcome.best is not None and serial.best is not None
    assert outcome.best.trial_id == serial.best.trial_id

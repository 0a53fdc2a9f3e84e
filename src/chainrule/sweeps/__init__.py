"""Hyper-parameter sweeps on Dask distributed: cross-validate many networks, keep the best.

>>> import chainrule.sweeps as sweeps                                    # doctest: +SKIP
>>> result = sweeps.sweep("examples/sweep.toml", results="runs/iris.jsonl")  # doctest: +SKIP
>>> print(result.summary())                                              # doctest: +SKIP

or, from a shell, ``chainrule sweep examples/sweep.toml --results runs/iris.jsonl``.

The config (TOML or YAML; see :mod:`chainrule.sweeps.config`) lists the data, the number of
cross-validation folds, a seed and a search space (grid or random) over hidden layers,
activation, optimizer, learning rate, L2, batch size and epochs. Each trial trains chainrule
networks on the folds (:mod:`chainrule.sweeps.trial`) and its result is appended to the results
file as soon as it finishes (:mod:`chainrule.sweeps.results`): an interrupted sweep loses no
finished trial, and running the same command again runs only the trials still missing. At the
end the best configuration is retrained on all the data and saved with
:func:`chainrule.serialization.save_model`.

Where the trials run
--------------------
By default the command starts a ``LocalCluster`` of ``--n-workers`` single-threaded worker
processes listening on 127.0.0.1 only, and closes it at the end. ``--scheduler serial`` (or
``scheduler="serial"``) runs every trial in the calling process; results are identical (only
``fit_time`` differs), because every random draw is seeded from the trial and fold.

A cluster of several machines
-----------------------------
1. Install the same chainrule version (and numpy, dask, distributed) on every machine, e.g.
   ``pip install "chainrule[dask]==X.Y.Z"``: the workers import ``chainrule.sweeps.trial`` to run
   trials, and a different version may compute different numbers.
2. On one machine start the scheduler: ``dask scheduler --host 0.0.0.0 --port 8786``
   (port 8786 must be reachable from the workers and from where you run the sweep; the
   scheduler and workers do no authentication, so keep them on a private network or use TLS).
3. On each worker machine: ``dask worker tcp://SCHEDULER_HOST:8786 --nthreads 1 --nworkers N``
   (one thread per process: the numpy training loop holds the GIL; N about the core count).
4. Run the sweep against it:
   ``chainrule sweep sweep.toml --scheduler tcp://SCHEDULER_HOST:8786``.
   The data are loaded where the command runs and sent to the cluster once; the results file
   and the best model are written where the command runs too. If the scheduler cannot be
   reached within ``--connect-timeout`` seconds (10), or what answers at that address is not a
   Dask scheduler (a web server, the dashboard's port 8787), the command stops with one error
   line and leaves the results file untouched. A worker that dies mid-trial has its trial rerun on
   another worker; nothing is lost or written twice.
"""

from __future__ import annotations

from chainrule.sweeps.config import LogUniform, SweepConfig, load_config
from chainrule.sweeps.errors import (
    ResultsFileError,
    SchedulerError,
    SweepConfigError,
    SweepInterrupted,
)
from chainrule.sweeps.results import ResultsFile
from chainrule.sweeps.runner import SweepResult, best_trial, local_cluster, sweep
from chainrule.sweeps.trial import (
    SweepData,
    TrialResult,
    TrialSpec,
    make_trials,
    prepare_data,
    r2_score,
    run_trial,
    stratified_kfold,
)

__all__ = [
    "LogUniform",
    "ResultsFile",
    "ResultsFileError",
    "SchedulerError",
    "SweepConfig",
    "SweepConfigError",
    "SweepData",
    "SweepInterrupted",
    "SweepResult",
    "TrialResult",
    "TrialSpec",
    "best_trial",
    "load_config",
    "local_cluster",
    "make_trials",
    "prepare_data",
    "r2_score",
    "run_trial",
    "stratified_kfold",
    "sweep",
]

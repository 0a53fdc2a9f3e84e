"""Training throughput: every implementation, alternating, median of repeats, per thread count."""

from __future__ import annotations

import gc
import statistics
import time
from typing import Any

from benchmarks.implementations import IMPLEMENTATIONS, Implementation
from benchmarks.workloads import Workload


def set_threads(threads: int, *, torch_too: bool = True) -> Any:
    """Limit numpy's BLAS (threadpoolctl) and, with ``torch_too``, PyTorch to ``threads``.

    Returns the threadpoolctl limiter (a context manager). PyTorch is imported only when asked
    for, so a process measuring another implementation's memory never loads it.
    """
    from threadpoolctl import threadpool_limits

    if torch_too:
        import torch

        torch.set_num_threads(threads)
    return threadpool_limits(limits=threads, user_api="blas")


def _time_epochs(impl: Implementation, epochs: int) -> tuple[float, float]:
    """Wall-clock and CPU seconds (this process, all threads) for ``epochs`` epochs."""
    gc.collect()
    start, start_cpu = time.perf_counter(), time.process_time()
    for _ in range(epochs):
        impl.run_epoch()
    return time.perf_counter() - start, time.process_time() - start_cpu


def measure(
    w: Workload, names: list[str], threads: int, repeats: int, seconds: float
) -> dict[str, Any]:
    """Samples/s of each implementation on ``w`` (median over ``repeats`` alternating rounds).

    Each round runs every implementation for about ``seconds``, in an order rotated from round to
    round; the ratios are medians of the per-round ratios, so load that drifts during the run
    affects both sides of each ratio alike; ``ratio_quartiles`` gives their spread. The GEMM
    ceiling is timed the same way (median round; ``best_round_gflops`` keeps its best round).
    ``ratios`` use wall-clock time (the targets);
    ``ratios_cpu_time`` use the CPU time of this process, which on a machine shared with other
    work leaves out the time spent waiting for a core (meaningful at one thread: with more,
    threads that spin while waiting for each other count too).
    """
    X, y = w.data()
    with set_threads(threads, torch_too="torch" in names):
        impls = {name: IMPLEMENTATIONS[name](w, X, y) for name in names}
        warm = {name: _time_epochs(impl, 1)[0] for name, impl in impls.items()}  # warm-up
        # Epochs per round, per implementation, so that each round of each lasts ~``seconds``
        epochs = {name: max(1, round(seconds / max(t, 1e-6))) for name, t in warm.items()}
        times: dict[str, list[float]] = {name: [] for name in names}
        cpu: dict[str, list[float]] = {name: [] for name in names}
        for r in range(repeats):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                wall, used = _time_epochs(impls[name], epochs[name])
                times[name].append(wall / epochs[name])
                cpu[name].append(used / epochs[name])
    samples = w.n_samples
    result: dict[str, Any] = {
        "epochs_per_round": epochs,
        "samples_per_epoch": samples,
        "implementations": {},
        "ratios": {},
        "ratios_cpu_time": {},
    }
    flops = w.flops_per_step() * w.steps_per_epoch
    for name in names:
        epoch_time = statistics.median(times[name])
        result["implementations"][name] = {
            "epoch_seconds": times[name],
            "epoch_cpu_seconds": cpu[name],
            "samples_per_s": samples / epoch_time,
            "gflops": flops / epoch_time / 1e9,
            "best_round_gflops": flops / min(times[name]) / 1e9,
        }
    if "chainrule" in names:
        result["ratio_quartiles"] = {}
        for key, seconds_of in (("ratios", times), ("ratios_cpu_time", cpu)):
            for other in names:
                if other != "chainrule":
                    per_round = per_round_ratios(seconds_of[other], seconds_of["chainrule"])
                    result[key][f"chainrule/{other}"] = statistics.median(per_round)
                    if key == "ratios":
                        result["ratio_quartiles"][f"chainrule/{other}"] = quartiles(per_round)
    if "gemm-only" in names and "torch" in names:
        # What an engine that spent no time outside its matrix products would reach against
        # PyTorch: the ceiling of every numpy MLP on this machine.
        ceiling = per_round_ratios(times["torch"], times["gemm-only"])
        result["gemm_ceiling_vs_torch"] = statistics.median(ceiling)
    return result


def per_round_ratios(slower: list[float], faster: list[float]) -> list[float]:
    """``slower[r] / faster[r]`` for each round ``r``: how many times faster the second was."""
    return [a / b for a, b in zip(slower, faster, strict=True)]


def quartiles(values: list[float]) -> list[float]:
    """First quartile, median and third quartile (all three the value itself for one round)."""
    if len(values) < 2:
        return [values[0]] * 3
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return [q1, q2, q3]

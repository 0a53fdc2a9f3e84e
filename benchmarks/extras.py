"""End to end: digits to 97% test accuracy, inference throughput, the playground's step rate."""

from __future__ import annotations

import asyncio
import itertools
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from benchmarks import json_from_fresh_interpreter
from benchmarks.implementations import torch_mlp
from benchmarks.throughput import set_threads

DIGITS_SIZES = (64, 128, 10)
DIGITS_TARGET = 0.97
DIGITS_LR = 1e-3
DIGITS_BATCH = 32
DIGITS_MAX_EPOCHS = 100


def _digits() -> tuple[Any, Any, Any, Any]:
    """scikit-learn's bundled 8x8 digits, standardised with the training part's statistics."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    mean, scale = X_train.mean(axis=0), X_train.std(axis=0)
    scale[scale == 0] = 1.0
    return (
        ((X_train - mean) / scale).astype(np.float32),
        ((X_test - mean) / scale).astype(np.float32),
        y_train.astype(np.int64),
        y_test.astype(np.int64),
    )


def _until_accurate(
    epoch: Callable[[], None], accuracy: Callable[[], float]
) -> tuple[float, int, bool]:
    start = time.perf_counter()
    for n in range(1, DIGITS_MAX_EPOCHS + 1):
        epoch()
        if accuracy() >= DIGITS_TARGET:
            return time.perf_counter() - start, n, True
    return time.perf_counter() - start, DIGITS_MAX_EPOCHS, False


def _digits_chainrule(data: tuple[Any, ...], seed: int) -> tuple[float, int, bool]:
    from chainrule.engine import Adam, Network, Trainer

    X_train, X_test, y_train, y_test = data
    start = time.perf_counter()
    net = Network(list(DIGITS_SIZES), ["relu", "softmax"], seed=seed)
    trainer = Trainer(
        net, X_train, y_train, optimizer=Adam(DIGITS_LR), batch_size=DIGITS_BATCH, seed=seed
    )
    _, epochs, reached = _until_accurate(
        trainer.run_epoch, lambda: float(np.mean(net.predict(X_test) == y_test))
    )
    return time.perf_counter() - start, epochs, reached


def _digits_sklearn(data: tuple[Any, ...], seed: int) -> tuple[float, int, bool]:
    from sklearn.neural_network import MLPClassifier

    X_train, X_test, y_train, y_test = data
    start = time.perf_counter()
    model = MLPClassifier(
        hidden_layer_sizes=DIGITS_SIZES[1:-1],
        activation="relu",
        solver="adam",
        learning_rate_init=DIGITS_LR,
        batch_size=DIGITS_BATCH,
        alpha=0.0,
        random_state=seed,
    )
    classes = np.arange(DIGITS_SIZES[-1])
    _, epochs, reached = _until_accurate(
        lambda: model.partial_fit(X_train, y_train, classes=classes),
        lambda: float(model.score(X_test, y_test)),
    )
    return time.perf_counter() - start, epochs, reached


def _digits_torch(data: tuple[Any, ...], seed: int) -> tuple[float, int, bool]:
    import torch

    X_train, X_test, y_train, y_test = (torch.from_numpy(a) for a in data)
    start = time.perf_counter()
    torch.manual_seed(seed)
    model = torch_mlp(DIGITS_SIZES, "relu")
    optimizer = torch.optim.Adam(model.parameters(), lr=DIGITS_LR)
    generator = torch.Generator().manual_seed(seed)

    def epoch() -> None:
        order = torch.randperm(len(X_train), generator=generator)
        X, y = X_train[order], y_train[order]
        for i in range(0, len(X), DIGITS_BATCH):
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(
                model(X[i : i + DIGITS_BATCH]), y[i : i + DIGITS_BATCH]
            )
            loss.backward()
            optimizer.step()

    def accuracy() -> float:
        with torch.inference_mode():
            return float((model(X_test).argmax(dim=1) == y_test).float().mean())

    _, epochs, reached = _until_accurate(epoch, accuracy)
    return time.perf_counter() - start, epochs, reached


def digits_time_to_accuracy(threads: int, *, quick: bool) -> dict[str, Any]:
    """Seconds from building the model to 97% test accuracy, each implementation, alternating."""
    data = _digits()
    runners = {
        "chainrule": _digits_chainrule,
        "sklearn": _digits_sklearn,
        "torch": _digits_torch,
    }
    rounds = 1 if quick else 3
    runs: dict[str, list[tuple[float, int, bool]]] = {name: [] for name in runners}
    print(f"  digits to {DIGITS_TARGET:.0%}, {rounds} round(s) ...", flush=True)
    with set_threads(threads):
        for r in range(rounds):
            names = list(runners)
            for name in names[r % 3 :] + names[: r % 3]:
                runs[name].append(runners[name](data, seed=r))
    return {
        "architecture": "-".join(map(str, DIGITS_SIZES)) + " relu",
        "optimizer": "adam",
        "learning_rate": DIGITS_LR,
        "batch_size": DIGITS_BATCH,
        "target_accuracy": DIGITS_TARGET,
        "threads": threads,
        "implementations": {
            name: {
                "seconds": statistics.median(t for t, _, _ in r),
                "epochs": statistics.median(e for _, e, _ in r),
                "reached": all(ok for _, _, ok in r),
                "runs": r,
            }
            for name, r in runs.items()
        },
    }


INFERENCE_SIZES = (784, 256, 256, 10)


def _onnx_model(net: Any) -> tuple[Any, str]:
    """chainrule's own exporter when it is there; else the same graph built here."""
    try:
        from chainrule.serialization.onnx_export import build_onnx

        return build_onnx(net), "chainrule.serialization.onnx_export.build_onnx"
    except ImportError:
        pass
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, initializers, h = [], [], "input"
    for l, (W, activation) in enumerate(zip(net.weights, net.activations, strict=True), 1):
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(W[:, :-1]), f"W{l}"))
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(W[:, -1]), f"b{l}"))
        nodes.append(helper.make_node("Gemm", [h, f"W{l}", f"b{l}"], [f"e{l}"], transB=1))
        op = {"relu": "Relu", "softmax": "Softmax"}[activation]
        extra = {"axis": -1} if op == "Softmax" else {}
        nodes.append(helper.make_node(op, [f"e{l}"], [f"h{l}"], **extra))
        h = f"h{l}"
    graph = helper.make_graph(
        nodes,
        "mlp",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", net.sizes[0]])],
        [helper.make_tensor_value_info(h, TensorProto.FLOAT, ["N", net.sizes[-1]])],
        initializer=initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model, full_check=True)
    return model, "benchmarks/extras.py (onnx.helper; chainrule's exporter not found)"


def inference(threads: int, *, quick: bool) -> dict[str, Any]:
    """``predict_proba`` samples/s at batch 1 and 1024: chainrule, PyTorch, onnxruntime.

    All three hold the same float32 weights; their outputs are checked to agree first.
    """
    import onnxruntime
    import torch

    from chainrule.engine import Network

    net = Network(list(INFERENCE_SIZES), ["relu", "relu", "softmax"], seed=0)
    model = torch_mlp(INFERENCE_SIZES, "relu").eval()
    with torch.no_grad():
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        for linear, W in zip(linears, net.weights, strict=True):
            linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W[:, :-1])))
            linear.bias.copy_(torch.from_numpy(np.ascontiguousarray(W[:, -1])))
    onnx_model, onnx_source = _onnx_model(net)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(
        onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    output_name = session.get_outputs()[0].name

    def torch_proba(X: NDArray[np.float32]) -> Any:
        with torch.inference_mode():
            return torch.softmax(model(torch.from_numpy(X)), dim=1).numpy()

    contenders: dict[str, Callable[[NDArray[np.float32]], Any]] = {
        "chainrule": net.predict_proba,
        "torch": torch_proba,
        "onnxruntime": lambda X: session.run([output_name], {"input": X})[0],
    }
    rng = np.random.default_rng(0)
    results: dict[str, dict[str, float]] = {}
    print("  inference ...", flush=True)
    with set_threads(threads):
        for batch in (1, 1024):
            X = rng.standard_normal((batch, INFERENCE_SIZES[0]), dtype=np.float32)
            reference = net.predict_proba(X)
            for proba in contenders.values():
                np.testing.assert_allclose(proba(X), reference, rtol=1e-3, atol=1e-5)
            calls = max(1, round((2000 if batch == 1 else 20) * (0.3 if quick else 1)))
            times: dict[str, list[float]] = {name: [] for name in contenders}
            for r in range(3 if quick else 7):
                names = list(contenders)
                for name in names[r % 3 :] + names[: r % 3]:
                    proba = contenders[name]
                    start = time.perf_counter()
                    for _ in range(calls):
                        proba(X)
                    times[name].append((time.perf_counter() - start) / calls)
            results[str(batch)] = {name: batch / statistics.median(t) for name, t in times.items()}
    return {
        "architecture": "-".join(map(str, INFERENCE_SIZES)) + " relu, float32",
        "threads": threads,
        "onnx_source": onnx_source,
        "batches": results,
    }


def playground(*, quick: bool) -> dict[str, Any]:
    """Steps/s and frame time of one playground session (its default settings), if it exists.

    Measured in a new interpreter, as the server runs: in this one, PyTorch's and the BLAS
    libraries' worker threads, still spinning after the measurements before, would take a core.
    """
    code = (
        "import json; from benchmarks.extras import playground_here; "
        f"print(json.dumps(playground_here(quick={quick!r})))"
    )
    return json_from_fresh_interpreter("-c", code)


def playground_here(*, quick: bool) -> dict[str, Any]:
    """:func:`playground` in this interpreter."""
    try:
        from chainrule.web.session import Session, _quiet
    except ImportError as err:
        return {"available": False, "note": f"no playground session to measure ({err})"}

    async def send(message: dict[str, Any]) -> None:  # frames are measured, not sent
        return None

    session = Session(send)
    trainer = session.trainer
    if trainer is None:
        return {"available": False, "note": "the playground's default session cannot train"}
    steps, rounds = (100, 3) if quick else (200, 15)
    rates = []
    with _quiet():
        for _ in range(20):
            trainer.step_minibatch()
        for _ in range(rounds):  # the median round: one round is at the mercy of the machine
            start = time.perf_counter()
            for _ in range(steps):
                trainer.step_minibatch()
            rates.append(steps / (time.perf_counter() - start))
    steps_per_s = statistics.median(rates)
    frame_times: dict[str, list[float]] = {"maps": [], "no_maps": []}
    for maps in itertools.islice(itertools.cycle([True, False]), 20 if quick else 60):
        start = time.perf_counter()
        session.frame(maps=maps)
        frame_times["maps" if maps else "no_maps"].append(time.perf_counter() - start)
    asyncio.run(session.close())
    ms = {key: 1e3 * statistics.median(t) for key, t in frame_times.items()}
    settings = session.settings
    hidden = "-".join(str(layer["units"]) for layer in settings["hidden"])
    return {
        "available": True,
        "steps_per_s": steps_per_s,
        "frame_ms_with_maps": ms["maps"],
        "frame_ms_without_maps": ms["no_maps"],
        "note": (
            f"default session ({settings['dataset']}, 2-{hidden}-{session.n_outputs} "
            f"{settings['hidden'][0]['activation']}, {settings['optimizer']}, batch "
            f"{settings['batch_size']}, float64): {steps_per_s:,.0f} steps/s; frame "
            f"{ms['maps']:.1f} ms with activation maps, {ms['no_maps']:.1f} ms without"
        ),
    }


def other_shapes(threads: int, *, quick: bool) -> dict[str, Any]:
    """chainrule against PyTorch on :data:`~benchmarks.workloads.OTHER_WORKLOADS`, measured as
    W1-W4 are (alternating rounds, medians), at ``threads`` threads."""
    from benchmarks.throughput import measure
    from benchmarks.workloads import OTHER_WORKLOADS

    repeats, seconds = (3, 0.1) if quick else (5, 0.3)
    shapes: dict[str, Any] = {}
    for name, w in OTHER_WORKLOADS.items():
        print(f"  other shape {name} ({w.label}) ...", flush=True)
        r = measure(w, ["chainrule", "torch"], threads, repeats, seconds)
        shapes[name] = {
            "label": w.label,
            "title": w.title,
            "threads": threads,
            "samples_per_s": {i: v["samples_per_s"] for i, v in r["implementations"].items()},
            "vs_torch": r["ratios"]["chainrule/torch"],
            "ratio_quartiles": r["ratio_quartiles"]["chainrule/torch"],
        }
    return shapes

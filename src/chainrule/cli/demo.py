"""``chainrule demo``: a terminal tour of the lecture, section by section, in under a minute.

The tour is the list :data:`SECTIONS`; each entry is a title and a function that prints its part
through a :class:`Tour`. Append to the list to extend the tour (a later "digits" section, say).
Nothing is written to disk unless ``--output-dir`` names a directory, and then only inside it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from chainrule._atomic import atomic_path
from chainrule.cli.common import make_output_dir
from chainrule.engine import explain
from chainrule.engine.network import Network
from chainrule.engine.optimizers import Adam
from chainrule.engine.training import Trainer
from chainrule.errors import DataError
from chainrule.logic import (
    GATES,
    XOR_TABLE,
    XOR_X,
    format_truth_table,
    hand_wired_xor,
    separability,
    softmax_decision_unit,
    truth_table,
    verify_certificate,
    worked_example,
    xor_learned,
    xor_without_hidden_layer,
)


@dataclass
class Tour:
    """What every section gets: where to print, where it may write files, how thorough to be."""

    output_dir: Path | None
    quick: bool

    def say(self, text: str = "") -> None:
        """Print one or more lines of the tour."""
        print(text, flush=True)

    def write(self, name: str, text: str) -> None:
        """Write ``name`` inside the output directory, if the user named one; else nothing."""
        if self.output_dir is None:
            return
        path = self.output_dir / name
        with atomic_path(path) as tmp:
            tmp.write_text(text, encoding="utf-8")
        self.say(f"(wrote {path})")


def gates(tour: Tour) -> None:
    """The lecture's McCulloch-Pitts gates, each run through the engine as a step network."""
    tour.say("A McCulloch-Pitts neuron computes y = u(w.x + b), u(e) = 1 if e > 0 else 0.")
    for name, unit in GATES.items():
        tour.say(f"\n{name} = {unit.formula()}")
        tour.say(format_truth_table(truth_table(unit.network()), output=name))


def xor_impossible(tour: Tour) -> None:
    """The certificate that no single threshold unit computes XOR (and weights for OR/AND)."""
    for name in ("OR", "AND"):
        unit = separability(truth_table(GATES[name])).unit
        assert unit is not None
        tour.say(f"{name} is linearly separable: the perceptron rule finds {unit.formula()}")
    # not the gates' weights of section 1: a learner should know that both are right
    tour.say("(weights other than section 1's, and as right: many units compute each gate)")
    result = separability(XOR_TABLE)
    assert result.certificate is not None
    tour.say("XOR is not. A unit y = u(w1 x1 + w2 x2 + b) computing it needs one inequality")
    tour.say("per row of the truth table, but")
    tour.say(str(result.certificate))
    verified = verify_certificate(XOR_TABLE, result.certificate)
    tour.say(
        f"certificate checked in exact integer arithmetic: {'valid' if verified else 'INVALID'}"
    )


def xor_hand_wired(tour: Tour) -> None:
    """The lecture's two-layer XOR of step units, verified on the four inputs."""
    net = hand_wired_xor()
    tour.say("h1 = u(0.5 - x1 - x2), h2 = u(x1 + x2 - 1.5), y = u(0.5 - h1 - h2)")
    for l, W in enumerate(net.weights, start=1):
        tour.say(f"W^({l}) = {W.tolist()}  (last column: the bias)")
    table = truth_table(net)
    tour.say(format_truth_table(table, output="y"))
    tour.say(f"equals XOR on all four inputs: {table == XOR_TABLE}")


def xor_backprop(tour: Tour) -> None:
    """XOR learned from random weights, counted over seeds, and the no-hidden-layer failure."""
    seeds = range(20 if tour.quick else 100)
    start = time.perf_counter()
    runs = [xor_learned(seed) for seed in seeds]
    seconds = time.perf_counter() - start
    solved = [run for run in runs if run.solved]
    tour.say(
        "2-6-2 network, tanh hidden layer, softmax output, cross-entropy, full-batch "
        "w <- w - eta dL/dw with eta = 1, from random (Glorot) weights"
    )
    epochs = [run.epochs for run in solved]
    tour.say(
        f"seeds 0..{len(runs) - 1}: {len(solved)} of {len(runs)} reach 100% "
        f"(median {int(np.median(epochs)) if epochs else '-'} epochs; {seconds:.1f} s)"
    )
    example = xor_learned(0, until_solved=False)
    probabilities = example.network.predict_proba(XOR_X)[:, 1]
    tour.say(
        f"seed 0 trained on for {example.epochs} epochs: loss {example.history[0]:.3f} -> "
        f"{example.history[-1]:.4f}, P(Y = 1 | x) on (0,0), (0,1), (1,0), (1,1) = "
        f"{np.round(probabilities, 3).tolist()}"
    )
    flat = [xor_without_hidden_layer(seed) for seed in range(5)]
    units = [softmax_decision_unit(run.network) for run in flat]
    largest = max(abs(v) for unit in units for v in (*unit.weights, unit.bias))
    tour.say(
        f"without a hidden layer (2-2 softmax), seeds 0..4 end at accuracy "
        f"{[run.accuracy for run in flat]}, never 1:"
    )
    # Softmax neurons count from 0, like the classes (explain's numbering): e_0 is class 0.
    tour.say("  its decision (class 1 iff e_1^(1) > e_0^(1)) is the single unit u(w.x + b) with")
    tour.say(
        "  w = W[1, :2] - W[0, :2], b = W[1, 2] - W[0, 2], which cannot compute XOR (section 2);"
    )
    # The best such a network can do on XOR under cross-entropy is w = 0, b = 0: P = 1/2 on
    # every input, loss ln 2. Its "accuracies" are then ties e_1 = e_0 broken by rounding
    # noise, so they must not be read as "3 of 4 learned".
    tour.say(
        f"  seeds 0..4 end at |w|, |b| <= {largest:.1g}, loss up to "
        f"{max(run.history[-1] for run in flat):.4f} (ln 2 = {np.log(2):.4f}: P = 1/2 "
        f"everywhere); seed 0: P(Y = 1 | x) = "
        f"{np.round(flat[0].network.predict_proba(XOR_X)[:, 1], 3).tolist()}"
    )
    if largest < 1e-6:
        tour.say(
            "  so they learn nothing: the accuracies above are ties e_1 = e_0 broken by rounding"
        )


def worked(tour: Tour) -> None:
    """The lecture's forward-propagation example, traced through one gradient step."""
    example = worked_example()
    tour.say(
        f"scalar x = {example.x}, h^(0) = [x, 1], ReLU hidden layer, softmax output; "
        f"target y = {example.y}, eta = {example.learning_rate}"
    )
    trace = example.trace()
    tour.say(explain.to_text(trace))
    tour.write("worked_example.md", explain.to_markdown(trace))
    tour.write("worked_example.json", explain.to_json(trace))


def spiral(tour: Tour) -> None:
    """A small network trained on a 3-arm spiral, with train and test accuracy."""
    from chainrule.datasets import spiral as make_spiral

    X, y = make_spiral(300, n_classes=3, noise=0.05, seed=0)
    X_test, y_test = make_spiral(300, n_classes=3, noise=0.05, seed=1)
    epochs = 150 if tour.quick else 250
    net = Network([2, 32, 32, 3], ["tanh", "tanh", "softmax"], seed=0)
    trainer = Trainer(net, X, y, optimizer=Adam(0.02), batch_size=32, seed=0)
    start = time.perf_counter()
    history = trainer.fit(epochs)
    seconds = time.perf_counter() - start
    tour.say(
        f"3-arm spiral, 300 training points; network {net}; Adam (eta = 0.02), "
        f"minibatches of 32, {epochs} epochs in {seconds:.1f} s"
    )
    tour.say(f"loss {history[0]:.3f} -> {history[-1]:.3f}")
    train_accuracy = float(np.mean(net.predict(X) == y))
    test_accuracy = float(np.mean(net.predict(X_test) == y_test))
    tour.say(
        f"accuracy: {train_accuracy:.1%} on the training points, {test_accuracy:.1%} on 300 new"
    )


def digits(tour: Tour) -> None:
    """The bundled 8x8 digits, trained with ``chainrule train``'s defaults and a progress bar."""
    from chainrule.cli.progress import ProgressBar
    from chainrule.datasets import Dataset, load, train_test_split
    from chainrule.fit import TrainConfig, fit

    try:
        data = load("digits")
    except DataError as err:  # a core-only install has no scikit-learn and so no digits
        tour.say(f"skipped: {err}")
        return
    X_train, X_test, y_train, y_test = train_test_split(data.X, data.y, 0.2, seed=0)
    train_part = Dataset(
        X_train,
        y_train,
        data.feature_names,
        data.target_name,
        data.classes,
        "classification",
        "digits",
    )
    config = TrainConfig()
    model = fit(train_part, config, callbacks=[ProgressBar()])
    test_accuracy = float(np.mean(model.predict_codes(X_test) == y_test))
    tour.say(
        f"{data.n_samples} 8x8 images of digits, 64 pixel features standardised on the "
        f"{len(y_train)} training images; network {model.net}; {config.optimizer} "
        f"(eta = {config.learning_rate:g}), minibatches of {config.batch_size}, "
        f"{len(model.history.epochs)} epochs in {model.seconds:.1f} s"
    )
    tour.say(f"test accuracy {test_accuracy:.1%} on {len(y_test)} held-out images")


@dataclass(frozen=True)
class Section:
    """One part of the tour."""

    title: str
    run: Callable[[Tour], None]


SECTIONS: list[Section] = [
    Section("Logic gates from McCulloch-Pitts neurons", gates),
    Section("XOR: no single threshold unit can compute it", xor_impossible),
    Section("XOR by hand: the lecture's two-layer network", xor_hand_wired),
    Section("XOR learned by back-propagation", xor_backprop),
    Section("The forward-propagation example, traced", worked),
    Section("A spiral, learned", spiral),
    Section("Handwritten digits, learned", digits),
]
"""The tour, in order."""


def register(subparsers: Any) -> None:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser(
        "demo",
        help="a terminal tour of the lecture (under a minute)",
        description="A tour of the lecture: gates, the XOR proof, XOR by hand and by "
        "back-propagation, the worked example's trace, a spiral and the handwritten digits.",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        metavar="DIR",
        help="also write the worked example's trace (Markdown, JSON) here; "
        "without it nothing is written",
    )
    parser.add_argument("--quick", action="store_true", help="fewer seeds and epochs")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print every section of the tour."""
    output_dir: Path | None = args.output_dir
    if output_dir is not None:
        make_output_dir(output_dir, "--output-dir")
    tour = Tour(output_dir=output_dir, quick=args.quick)
    start = time.perf_counter()
    for number, section in enumerate(SECTIONS, start=1):
        tour.say(f"\n== {number}. {section.title} ==\n")
        section.run(tour)
    tour.say(f"\ntour finished in {time.perf_counter() - start:.1f} s")
    return 0

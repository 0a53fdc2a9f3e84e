"""One playground session: a data set, a network and a trainer, driven by messages from one page.

Everything numeric happens in the engine (:class:`~chainrule.engine.network.Network`,
:class:`~chainrule.engine.training.Trainer`, :func:`~chainrule.engine.trace.trace`) and the data
package; this module only decides what to run and packs the results into frames for the page.

A frame holds the epoch, train/test loss and accuracy, the output probabilities over a
``GRID x GRID`` grid of the plane (the decision regions), every ``W^(l)`` and the last
``dL/dW^(l)``, per-layer gradient norms, dead ReLU counts, optionally each neuron's activation
``h_j^(l)`` over a coarser grid, and the chosen hidden layer's view of the data. Large arrays
travel as base64 (float32 or uint8) to keep frames small.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from chainrule._json import json_ready
from chainrule.datasets import circle, gaussian, load_csv, moons, spiral, train_test_split, xor
from chainrule.datasets.preprocessing import Standardizer
from chainrule.datasets.toy import MAX_CLASSES as TOY_MAX_CLASSES
from chainrule.engine import Dense, Network, Trainer, make_optimizer, trace
from chainrule.engine.explain import to_dict
from chainrule.engine.metrics import accuracy
from chainrule.errors import ChainruleError, DivergenceError, ModelFileError
from chainrule.fit import FittedModel
from chainrule.serialization import load_model, save_model
from chainrule.web.protocol import (
    FRAME_DRAWN_WAIT_S,
    FRAMES_IN_FLIGHT,
    HIDDEN_ACTIVATIONS,
    MAX_CLASSES,
    MAX_HIDDEN_LAYERS,
    MAX_NEURONS,
    MAX_POINTS,
    MAX_UPLOAD_BYTES,
    MIN_CLASSES,
    MIN_POINTS,
    ProtocolError,
)

log = logging.getLogger(__name__)

Array = NDArray[np.floating]
Labels = NDArray[np.int64]
Send = Callable[[dict[str, Any]], Awaitable[None]]

GRID = 50
"""The decision regions are sampled on ``GRID x GRID`` points."""
MAP_STRIDE = 2
"""Neuron activation maps and the hidden-layer view use every ``MAP_STRIDE``-th grid point."""
FRAMES_PER_SECOND = 40.0
"""Target frame rate while training."""
TRAIN_BUDGET_S = 0.02
"""Longest stretch of training between two frames, so many sessions share one event loop."""
MAPS_EVERY = 3
"""While training, every ``MAPS_EVERY``-th frame carries the neurons' activation maps."""
SATURATED_SLOPE = 0.1
"""A hidden unit is saturated on a point when ``g'(e)`` is below this share of its largest
value (``1 - h^2 < 0.1`` for tanh, ``|h| > 0.95``; ``h (1 - h) < 0.025`` for sigmoid; ``e <= 0``
for ReLU and leaky ReLU)."""
SATURATED_POINTS = 0.9
"""... and the unit is saturated when that holds for this share of the training points."""
STUCK_EPOCHS = 20
"""The run is stuck when the last ``STUCK_EPOCHS`` epochs brought no new best training loss
(better by 1 %) ..."""
STUCK_ACCURACY = 0.1
"""... the training accuracy is within this of always guessing the commonest class ..."""
STUCK_SATURATED = 0.5
"""... and at least this share of the hidden units is saturated (or dead)."""

DEFAULT_SETTINGS: dict[str, Any] = {
    "dataset": "xor",
    "n_points": 200,
    "noise": 0.05,
    "n_classes": 2,
    "train_ratio": 0.5,
    "hidden": [{"units": 8, "activation": "tanh"}, {"units": 8, "activation": "tanh"}],
    "output": "softmax",
    "optimizer": "adam",
    "learning_rate": 0.03,
    "batch_size": 10,
    "l2": 0.0,
    "seed": 1,
    "speed": 5,
}
"""The run a fresh page starts with (the protocol's ``settings`` object)."""

_DATA_KEYS = ("dataset", "n_points", "noise", "n_classes", "train_ratio", "seed")
_NETWORK_KEYS = ("hidden", "output", "seed", "n_classes")
_TRAINING_KEYS = ("optimizer", "learning_rate", "batch_size", "l2")
_GENERATORS = {"xor": xor, "circle": circle, "gaussian": gaussian, "spiral": spiral, "moons": moons}

STUCK_HELP = (
    "Training is stuck: the loss has not improved for a while and accuracy is near chance, "
    "while most hidden units are saturated (tanh or sigmoid with |e| large, so h sits at its "
    "limits) or dead (ReLU with e ≤ 0). There g'(e) ≈ 0, so ∂L/∂e = ∂L/∂h · g'(e) ≈ 0: the "
    "gradient vanishes and the weights feeding those units barely move. A too large learning "
    "rate η often throws the weights there; try a smaller η and press reset."
)

DIVERGENCE_HELP = (
    "The loss became infinite or not-a-number: the steps w ← w − η ∂L/∂w were so large that "
    "the weights overshot and grew without bound. Training has stopped and the network shows "
    "the last good weights. Lower the learning rate η, then press play again."
)


@dataclass
class Data:
    """The session's points, split into a training and a test part."""

    X_train: Array
    y_train: Labels
    X_test: Array
    y_test: Labels
    classes: list[str]
    source: str  # "generated" or "custom"

    @property
    def extent(self) -> float:
        """Half-width of the square view ``[-extent, extent]^2`` that shows every point."""
        both = np.concatenate([self.X_train, self.X_test])
        return float(max(1.5, 1.1 * np.abs(both).max())) if len(both) else 1.5

    def as_points(self) -> dict[str, list[list[float]]]:
        """``{"train": [[x1, x2, label], ...], "test": [...]}`` for the page."""
        return {
            "train": np.column_stack([self.X_train, self.y_train]).tolist(),
            "test": np.column_stack([self.X_test, self.y_test]).tolist(),
        }


def split(X: Array, y: Labels, train_ratio: float, seed: int, classes: list[str]) -> Data:
    """Split ``(X, y)`` with the data package's seeded, stratified split (``ratio 1``: no test)."""
    if train_ratio >= 1.0 or len(X) < 2:
        empty = np.empty((0, 2))
        return Data(X, y, empty, np.empty(0, np.int64), classes, "custom")
    X_train, X_test, y_train, y_test = train_test_split(X, y, 1.0 - train_ratio, seed=seed)
    return Data(X_train, y_train, X_test, y_test, classes, "custom")


def generate(settings: Mapping[str, Any]) -> Data:
    """The toy data set the settings describe, from :mod:`chainrule.datasets`."""
    name = settings["dataset"]
    generator = _GENERATORS[name]
    options: dict[str, Any] = {"noise": settings["noise"], "seed": settings["seed"]}
    if TOY_MAX_CLASSES[name] > 2:
        options["n_classes"] = settings["n_classes"]
    X, y = generator(settings["n_points"], **options)
    data = split(X, y, settings["train_ratio"], settings["seed"], _default_classes(y))
    data.source = "generated"
    return data


def _default_classes(y: Labels) -> list[str]:
    return [str(c) for c in range(max(MIN_CLASSES, int(y.max()) + 1))]


def _class_count_problem(name: str, target: str, classes: list[str]) -> str:
    """Why an uploaded file's label column does not fit the playground's 2 to 6 classes."""
    shown = ", ".join(repr(c) for c in classes[:4]) + (", ..." if len(classes) > 4 else "")
    where = f"{name!r}: the label column {target!r} holds"
    if len(classes) < MIN_CLASSES:
        return (
            f"{where} only 1 class ({shown}); the playground needs {MIN_CLASSES} to {MAX_CLASSES}"
        )
    try:
        numbers = [float(c) for c in classes]
    except ValueError:
        numbers = []
    if numbers and not all(v.is_integer() for v in numbers):
        return (
            f"{where} {len(classes):,} different numbers ({shown}), like a regression target; the "
            f"playground classifies: it needs a label column of {MIN_CLASSES} to {MAX_CLASSES} "
            "classes"
        )
    return (
        f"{where} {len(classes):,} classes ({shown}); the playground takes {MIN_CLASSES} to "
        f"{MAX_CLASSES}"
    )


def _quiet() -> np.errstate:
    """Overflow while training ends in a non-finite loss, which the trainer turns into a
    :class:`DivergenceError` with the last good weights: no warnings on the server's console."""
    return np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore")


def _f32(array: NDArray[Any]) -> str:
    """Base64 of little-endian float32: the page reads it as a ``Float32Array``."""
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def _u8(unit: NDArray[Any]) -> str:
    """Base64 of values in [0, 1] quantised to bytes 0..255."""
    quantised = np.rint(np.clip(np.nan_to_num(unit), 0.0, 1.0) * 255).astype(np.uint8)
    return base64.b64encode(quantised.tobytes()).decode("ascii")


_PEAK_SLOPE = {"sigmoid": 0.25}
"""The largest value of ``g'`` where it is not 1 (tanh, ReLU, leaky ReLU and identity peak at 1)."""


def _saturated(layer: Dense) -> int:
    """Hidden units of ``layer`` whose slope ``g'(e)`` (the engine's own) is near 0 on most
    training points (the layer holds the training points' ``e`` and ``h``): see
    :data:`SATURATED_SLOPE`. Step units have no slope to lose and softmax no elementwise one:
    they are not counted."""
    e, h, activation = layer.e, layer.h, layer.activation
    if e is None or h is None or len(e) == 0 or not activation.elementwise:
        return 0
    if activation.name == "step":
        return 0
    slope = activation.g_prime(e, h)
    flat = slope < SATURATED_SLOPE * _PEAK_SLOPE.get(activation.name, 1.0)
    return int((np.mean(flat, axis=0) >= SATURATED_POINTS).sum())


def _for_raw_inputs(weights: tuple[Array, ...], standardizer: Standardizer | None) -> list[Array]:
    """A model file's weights for the raw ``x1, x2`` the playground feeds, its input
    standardisation ``z_k = (x_k - m_k) / s_k`` folded into ``W^(1)``:
    ``sum_k w_jk z_k + w_j,bias = sum_k (w_jk / s_k) x_k + (w_j,bias - sum_k w_jk m_k / s_k)``,
    so the page shows the model's own predictions (the file's weights alone expect ``z``)."""
    layers: list[Array] = [np.array(W, dtype=np.float64) for W in weights]
    if standardizer is None or standardizer.mean_ is None or standardizer.scale_ is None:
        return layers
    first = layers[0]
    scaled = first[:, :-1] / standardizer.scale_
    first[:, -1] -= scaled @ standardizer.mean_
    first[:, :-1] = scaled
    return layers


def _matrix(array: NDArray[Any]) -> dict[str, Any]:
    return {"shape": list(array.shape), "data": _f32(array)}


class PageClosed(Exception):
    """The page's connection closed while a message was on its way to it: the session ends
    there, with nothing to report (closing a tab mid-training is no error)."""


class Session:
    """The training session of one page (one websocket).

    Parameters
    ----------
    send:
        Coroutine that delivers one JSON-able message to the page; raises :class:`PageClosed`
        once the page is gone.
    """

    def __init__(self, send: Send) -> None:
        self._deliver = send
        self._frames_in_flight = 0  # frames sent and not yet reported drawn
        self._page_reports_drawn = False
        self._drawn = asyncio.Event()
        self.settings: dict[str, Any] = dict(DEFAULT_SETTINGS)
        self.view: dict[str, Any] = {"layer": 1, "neurons": [0, 1], "maps": True}
        self.playing = False
        self._task: asyncio.Task[None] | None = None
        self.data = generate(self.settings)
        self._build_network()
        self._grid, self._map_index = self._make_grid()

    # -- flow control ---------------------------------------------------------------------

    async def _send(self, message: dict[str, Any]) -> None:
        if message["type"] == "frame":
            self._frames_in_flight += 1
        await self._deliver(message)

    def frame_drawn(self) -> None:
        """The page has drawn a frame (see :data:`~chainrule.web.protocol.FRAME_DRAWN`)."""
        self._page_reports_drawn = True
        self._frames_in_flight = max(0, self._frames_in_flight - 1)
        self._drawn.set()

    async def _wait_for_the_page(self) -> None:
        """While the page reports drawn frames, wait until fewer than
        :data:`~chainrule.web.protocol.FRAMES_IN_FLIGHT` are undrawn (at most
        :data:`~chainrule.web.protocol.FRAME_DRAWN_WAIT_S`)."""
        deadline = time.monotonic() + FRAME_DRAWN_WAIT_S
        while self._page_reports_drawn and self._frames_in_flight >= FRAMES_IN_FLIGHT:
            self._drawn.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drawn.wait(), left)

    # -- building -------------------------------------------------------------------------

    @property
    def n_outputs(self) -> int:
        """Output units: one per class (softmax) or a single step unit."""
        return 1 if self.settings["output"] == "step" else int(self.settings["n_classes"])

    @property
    def untrainable_reason(self) -> str | None:
        """Why play and step are off (a step unit anywhere), or None."""
        if self.net.loss is None or "step" in self.net.activations:
            return (
                "This network has step units u(e). Their derivative is 0 everywhere except at "
                "e = 0, where it is undefined, so back-propagation gives dL/dw = 0 for every "
                "weight and gradient descent cannot learn. Set the weights by hand (a lesson), "
                "or switch the layers to sigmoid or tanh (a smooth step) to train."
            )
        return None

    def _build_network(self) -> None:
        s = self.settings
        hidden = s["hidden"]
        sizes = [2] + [layer["units"] for layer in hidden] + [self.n_outputs]
        activations = [layer["activation"] for layer in hidden] + [s["output"]]
        self.net = Network(sizes, activations, seed=s["seed"], dtype="float64")
        self._build_trainer(keep_counts=False)

    def _build_trainer(self, *, keep_counts: bool) -> None:
        old = getattr(self, "trainer", None)
        self.trainer: Trainer | None = None
        if self.untrainable_reason is not None or len(self.data.X_train) == 0:
            return
        s = self.settings
        optimizer = make_optimizer(s["optimizer"], s["learning_rate"], weight_decay=s["l2"])
        trainer = Trainer(
            self.net,
            self.data.X_train,
            self.data.y_train,
            optimizer=optimizer,
            batch_size=s["batch_size"],
            seed=s["seed"],
            keep_gradients=True,  # the page shows each step's dL/dW
        )
        if keep_counts and old is not None:
            trainer.epoch, trainer.steps, trainer.history = old.epoch, old.steps, old.history
        self.trainer = trainer

    def _make_grid(self) -> tuple[Array, NDArray[np.intp]]:
        """Grid points row by row from the top (high ``x2``) and the indices of the coarse grid."""
        half = self.data.extent
        axis = np.linspace(-half, half, GRID)
        x1, x2 = np.meshgrid(axis, axis[::-1])
        grid = np.ascontiguousarray(np.column_stack([x1.ravel(), x2.ravel()]))
        rows = np.arange(0, GRID, MAP_STRIDE)
        map_index = (rows[:, None] * GRID + rows[None, :]).ravel()
        return grid, map_index

    def _data_changed(self, *, rebuild_network: bool = False) -> None:
        self._grid, self._map_index = self._make_grid()
        if rebuild_network:
            self._build_network()
        else:
            self._build_trainer(keep_counts=True)

    # -- messages -------------------------------------------------------------------------

    async def handle(self, message: dict[str, Any]) -> None:
        """Act on one validated message (see :data:`chainrule.web.protocol.MESSAGES`)."""
        kind = message["type"]
        handler = getattr(self, f"_on_{kind}")
        await handler(message)

    async def start(self) -> None:
        """Send the first state and frame."""
        await self._send_state(reset=True)

    async def _send_state(self, *, reset: bool) -> None:
        await self._send(
            {
                "type": "state",
                "reset": reset,
                "settings": self.settings,
                "points": self.data.as_points(),
                "classes": self.data.classes,
                "source": self.data.source,
                "extent": self.data.extent,
                "grid": GRID,
                "map_grid": len(range(0, GRID, MAP_STRIDE)),
                "sizes": self.net.sizes,
                "activations": self.net.activations,
                "trainable": self.untrainable_reason is None,
                "reason": self.untrainable_reason,
                "stuck_help": STUCK_HELP,
            }
        )
        await self._send(self.frame(maps=True))

    async def _on_config(self, message: dict[str, Any]) -> None:
        new = dict(message["settings"])
        old = self.settings
        if new["output"] == "step":
            new["n_classes"] = 2  # one step unit: class 1 when h > 0.5
        # Clicked or uploaded points stay until a data setting changes; the same settings sent
        # again mean "generate the data set afresh". A new seed or training share alone splits
        # those points anew: trying another seed must not swap an uploaded file for xor.
        custom = self.data.source == "custom"
        data_changes = {key for key in _DATA_KEYS if new[key] != old[key]}
        resplit = custom and bool(data_changes) and data_changes <= {"seed", "train_ratio"}
        regenerate = (bool(data_changes) and not resplit) or (custom and new == old)
        if regenerate:
            new["n_classes"] = min(new["n_classes"], TOY_MAX_CLASSES[new["dataset"]])
        elif new["output"] == "softmax":
            # The points stay, so does their number of classes: a softmax output needs one unit
            # per class (after a step output, whose settings say 2, on 3-class points).
            new["n_classes"] = len(self.data.classes)
        changed = {key for key in new if new[key] != old[key]}
        # A change of the optimizer, rate, batch size, L2 or speed alone goes on playing (a
        # learner lowers eta mid-run to watch the effect); anything else starts a new run.
        resume = self.playing and not regenerate and not changed - set(_TRAINING_KEYS) - {"speed"}
        data = generate(new) if regenerate else None  # may raise: then nothing has changed
        if resplit:
            d = self.data
            X, y = np.concatenate([d.X_train, d.X_test]), np.concatenate([d.y_train, d.y_test])
            data = split(X, y, new["train_ratio"], new["seed"], d.classes)
        await self.pause()
        self.settings = new
        if data is not None:
            self.data = data
            self._grid, self._map_index = self._make_grid()
            self._build_network()
        elif changed & set(_NETWORK_KEYS):
            self._build_network()
        elif changed & set(_TRAINING_KEYS):
            self._build_trainer(keep_counts=True)
        await self._send_state(reset=bool(changed - set(_TRAINING_KEYS) - {"speed"}))
        if resume and self.trainer is not None:
            self.playing = True
            self._task = asyncio.create_task(self._train_loop())

    async def _on_reset(self, message: dict[str, Any]) -> None:
        await self.pause()
        self._build_network()
        await self._send_state(reset=True)

    async def _on_play(self, message: dict[str, Any]) -> None:
        self._require_trainer()
        if not self.playing:
            self.playing = True
            self._task = asyncio.create_task(self._train_loop())

    async def _on_pause(self, message: dict[str, Any]) -> None:
        await self.pause()
        await self._send(self.frame(maps=True))

    async def _on_step(self, message: dict[str, Any]) -> None:
        trainer = self._require_trainer()
        await self.pause()
        try:
            with _quiet():
                if message["unit"] == "epoch":
                    await self._run_epoch(trainer)
                else:
                    trainer.step_minibatch()
        except DivergenceError as err:
            await self._diverged(err)
            return
        await self._send(self.frame(maps=True))

    async def _on_add_point(self, message: dict[str, Any]) -> None:
        label = message["label"]
        if label >= len(self.data.classes):
            raise ProtocolError(
                f"label {label} is not a class of this data set (0..{len(self.data.classes) - 1})"
            )
        if self.n_points >= MAX_POINTS:
            raise ProtocolError(f"the data set already holds the limit of {MAX_POINTS:,} points")
        d = self.data
        d.X_train = np.vstack([d.X_train, [message["x"]]])
        d.y_train = np.append(d.y_train, np.int64(label))
        d.source = "custom"
        self._data_changed()
        await self._send_state(reset=False)

    async def _on_remove_point(self, message: dict[str, Any]) -> None:
        d = self.data
        target = np.asarray(message["x"])
        best: tuple[float, str, int] | None = None
        for subset, X in (("train", d.X_train), ("test", d.X_test)):
            if len(X):
                distances = np.hypot(*(X - target).T)
                i = int(np.argmin(distances))
                if distances[i] <= message["radius"] and (best is None or distances[i] < best[0]):
                    best = (float(distances[i]), subset, i)
        if best is None:
            raise ProtocolError("no point within reach of the click to remove")
        _, subset, i = best
        if len(d.X_train) - (subset == "train") < 1:
            raise ProtocolError("cannot remove the last training point")
        if subset == "train":
            d.X_train, d.y_train = np.delete(d.X_train, i, 0), np.delete(d.y_train, i)
        else:
            d.X_test, d.y_test = np.delete(d.X_test, i, 0), np.delete(d.y_test, i)
        d.source = "custom"
        self._data_changed()
        await self._send_state(reset=False)

    async def _on_points(self, message: dict[str, Any]) -> None:
        rows = np.asarray(message["points"], dtype=np.float64)
        y = rows[:, 2].astype(np.int64)
        await self._replace_data(rows[:, :2], y, _default_classes(y))

    async def _on_upload_csv(self, message: dict[str, Any]) -> None:
        text = message["text"]
        if len(text.encode("utf-8")) > MAX_UPLOAD_BYTES:
            raise ProtocolError(f"the file is larger than the limit of {MAX_UPLOAD_BYTES:,} bytes")
        with tempfile.TemporaryDirectory(prefix="chainrule-upload-") as folder:
            path = Path(folder) / "upload.csv"
            path.write_text(text, encoding="utf-8")
            try:
                dataset = load_csv(path, task="classification", name=message["name"])
            except ChainruleError as err:
                where = str(err).replace(repr(str(path)), "").replace(str(path), "").lstrip(" ,:")
                raise ProtocolError(f"cannot read {message['name']!r}: {where}") from None
        if dataset.n_features != 2:
            raise ProtocolError(
                f"{message['name']!r} has {dataset.n_features} feature columns; the playground "
                "needs exactly 2 (x1, x2) and a label column"
            )
        if not MIN_POINTS <= dataset.n_samples <= MAX_POINTS:
            raise ProtocolError(
                f"{message['name']!r} has {dataset.n_samples:,} data "
                f"row{'s' if dataset.n_samples != 1 else ''}; the playground takes "
                f"{MIN_POINTS} to {MAX_POINTS:,}"
            )
        assert dataset.classes is not None
        if not MIN_CLASSES <= len(dataset.classes) <= MAX_CLASSES:
            raise ProtocolError(
                _class_count_problem(message["name"], dataset.target_name, dataset.classes)
            )
        if np.abs(dataset.X).max() > 1e3:
            raise ProtocolError(
                f"{message['name']!r} has coordinates beyond +-1000; rescale the features"
            )
        await self._replace_data(dataset.X, dataset.y, [str(c) for c in dataset.classes])

    async def _on_restore_data(self, message: dict[str, Any]) -> None:
        """The page's own data again, after a reconnect: its train/test split and class names
        as they were (an uploaded file's names; a split that splitting anew would not give)."""
        classes = list(message["classes"])
        if len(set(classes)) != len(classes):
            raise ProtocolError(f"the class names must differ; got {classes}")
        train = np.asarray(message["train"], dtype=np.float64).reshape(-1, 3)
        test = np.asarray(message["test"], dtype=np.float64).reshape(-1, 3)
        if not MIN_POINTS <= len(train) + len(test) <= MAX_POINTS:
            raise ProtocolError(
                f"the data must hold {MIN_POINTS} to {MAX_POINTS:,} points; "
                f"got {len(train) + len(test):,}"
            )
        label = int(max(train[:, 2].max(), test[:, 2].max(initial=0)))
        if label >= len(classes):
            raise ProtocolError(f"label {label} has no class name (there are {len(classes)})")
        X_train, y_train = train[:, :2], train[:, 2].astype(np.int64)
        X_test, y_test = test[:, :2], test[:, 2].astype(np.int64)
        await self._use_data(Data(X_train, y_train, X_test, y_test, classes, "custom"))

    async def _replace_data(self, X: Array, y: Labels, classes: list[str]) -> None:
        await self._use_data(
            split(X, y, self.settings["train_ratio"], self.settings["seed"], classes)
        )

    async def _use_data(self, data: Data) -> None:
        """Train on ``data`` from now on, with a network rebuilt for its classes."""
        await self.pause()
        self.data = data
        if self.settings["output"] == "softmax":
            self.settings["n_classes"] = len(data.classes)
        self._data_changed(rebuild_network=True)
        await self._send_state(reset=True)

    async def _on_explain(self, message: dict[str, Any]) -> None:
        X, y = (
            (self.data.X_train, self.data.y_train)
            if message["subset"] == "train"
            else (self.data.X_test, self.data.y_test)
        )
        i = message["index"]
        if i >= len(X):
            raise ProtocolError(f"there is no {message['subset']} point {i} (there are {len(X)})")
        target = y[i : i + 1] if self.net.loss is not None and self.trainer is not None else None
        with _quiet():
            tr = trace(self.net, X[i : i + 1], target, learning_rate=self.settings["learning_rate"])
        shown = json_ready(to_dict(tr))  # the library's own form of a trace, full precision
        await self._send(
            {
                "type": "trace",
                "subset": message["subset"],
                "index": i,
                "optimizer": self.settings["optimizer"],
                "trace": shown,
            }
        )

    async def _on_predict(self, message: dict[str, Any]) -> None:
        X = np.asarray(message["points"], dtype=np.float64)
        with _quiet():
            proba = self.proba(X)
        await self._send({"type": "prediction", "proba": json_ready(proba.tolist())})

    async def _on_view(self, message: dict[str, Any]) -> None:
        self.view = {key: message[key] for key in ("layer", "neurons", "maps")}
        if not self.playing:
            await self._send(self.frame(maps=self.view["maps"]))

    async def _on_set_weights(self, message: dict[str, Any]) -> None:
        await self.pause()
        try:
            self.net.set_weights([np.asarray(W, dtype=np.float64) for W in message["weights"]])
        except ChainruleError as err:
            raise ProtocolError(f"cannot set the weights: {err}") from None
        self._build_trainer(keep_counts=True)
        await self._send(self.frame(maps=True))

    async def _on_export(self, message: dict[str, Any]) -> None:
        net = self.net
        trainer = self.trainer
        with tempfile.TemporaryDirectory(prefix="chainrule-export-") as folder:
            path = Path(folder) / "model.safetensors"
            save_model(
                path,
                weights=net.weights,
                activations=net.activation_functions,
                # A step output (the only one without a loss) is one 0/1 decision, as a sigmoid
                # unit's: "mse" would mark a regression model, whose outputs are values.
                loss=net.loss.name if net.loss is not None else "binary_cross_entropy",
                classes=self.data.classes,
                task="classification",
                training={
                    "epoch": trainer.epoch if trainer else 0,
                    "steps": trainer.steps if trainer else 0,
                    "playground_settings": self.settings,
                },
            )
            payload = path.read_bytes()
        await self._send(
            {
                "type": "model",
                "filename": f"chainrule-{self.settings['dataset']}.safetensors",
                "data": base64.b64encode(payload).decode("ascii"),
            }
        )

    async def _on_import_model(self, message: dict[str, Any]) -> None:
        name = message["name"]
        try:
            payload = base64.b64decode(message["data"], validate=True)
        except (binascii.Error, ValueError):
            raise ProtocolError(f"{name!r}: the upload is not valid base64") from None
        if len(payload) > MAX_UPLOAD_BYTES:
            raise ProtocolError(f"{name!r} is larger than the limit of {MAX_UPLOAD_BYTES:,} bytes")
        with tempfile.TemporaryDirectory(prefix="chainrule-import-") as folder:
            path = Path(folder) / "model.safetensors"
            path.write_bytes(payload)
            try:
                model = load_model(path, max_bytes=MAX_UPLOAD_BYTES)
            except ModelFileError as err:
                message_text = str(err).replace(repr(str(path)), repr(name))
                raise ProtocolError(message_text.replace(str(path), name)) from None
        hidden, output = self._check_model_shape(name, model.sizes, model.activations)
        try:  # the standardisation prediction applies (chainrule train's default)
            standardizer = FittedModel.from_file(model).standardizer
        except ModelFileError as err:
            raise ProtocolError(f"{name!r}: {err}") from None
        weights = _for_raw_inputs(model.weights, standardizer)
        n_out = model.sizes[-1]
        settings = {**self.settings, "hidden": hidden, "output": output}
        data: Data | None = None
        if output == "softmax" and n_out != len(self.data.classes):
            settings["n_classes"] = n_out
            if self.data.source != "generated" or TOY_MAX_CLASSES[settings["dataset"]] < n_out:
                raise ProtocolError(
                    f"{name!r} predicts {n_out} classes but the data set has "
                    f"{len(self.data.classes)}; load data with {n_out} classes first"
                )
            data = generate(settings)
        # Nothing above changed the session: a refused file leaves the run as it was.
        await self.pause()
        self.settings = settings
        if data is not None:
            self.data = data
            self._grid, self._map_index = self._make_grid()
        self.net = Network.from_weights(weights, model.activations, dtype="float64")
        self._build_trainer(keep_counts=False)
        await self._send_state(reset=True)

    @staticmethod
    def _check_model_shape(
        name: str, sizes: tuple[int, ...], activations: tuple[str, ...]
    ) -> tuple[list[dict[str, Any]], str]:
        """The playground's ``hidden`` and ``output`` settings for a loaded model, or raise."""
        if sizes[0] != 2:
            raise ProtocolError(f"{name!r} takes {sizes[0]} inputs; the playground has 2 (x1, x2)")
        if len(sizes) - 2 > MAX_HIDDEN_LAYERS or max(sizes[1:-1], default=1) > MAX_NEURONS:
            raise ProtocolError(
                f"{name!r} has layer sizes {list(sizes)}; the playground shows at most "
                f"{MAX_HIDDEN_LAYERS} hidden layers of {MAX_NEURONS} neurons"
            )
        bad = [a for a in activations[:-1] if a not in HIDDEN_ACTIVATIONS]
        if bad:
            raise ProtocolError(f"{name!r} uses the activation {bad[0]!r}, not in the playground")
        output = activations[-1]
        if not (
            (output == "softmax" and MIN_CLASSES <= sizes[-1] <= MAX_CLASSES)
            or (output == "step" and sizes[-1] == 1)
        ):
            raise ProtocolError(
                f"{name!r} ends in {sizes[-1]} {output} units; the playground needs a softmax "
                f"output of {MIN_CLASSES} to {MAX_CLASSES} classes (or one step unit)"
            )
        hidden = [
            {"units": units, "activation": activation}
            for units, activation in zip(sizes[1:-1], activations[:-1], strict=True)
        ]
        return hidden, output

    # -- training -------------------------------------------------------------------------

    def _require_trainer(self) -> Trainer:
        reason = self.untrainable_reason
        if reason is not None:
            raise ProtocolError(reason)
        if self.trainer is None:
            raise ProtocolError("there are no training points: add some or generate data")
        return self.trainer

    async def pause(self) -> None:
        """Stop the training loop (if it runs) and wait until it has stopped."""
        self.playing = False
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        """Free the session: stop training."""
        await self.pause()

    async def _train_loop(self) -> None:
        trainer = self._require_trainer()
        frame_number = 0
        interval = 1.0 / FRAMES_PER_SECOND
        try:
            while self.playing:
                start = time.perf_counter()
                with _quiet():
                    for _ in range(self.settings["speed"]):
                        trainer.step_minibatch()
                        if time.perf_counter() - start > TRAIN_BUDGET_S:
                            break
                frame_number += 1
                await self._send(
                    self.frame(maps=self.view["maps"] and frame_number % MAPS_EVERY == 0)
                )
                await self._wait_for_the_page()
                await asyncio.sleep(max(0.0, interval - (time.perf_counter() - start)))
        except DivergenceError as err:
            self._loop_ended()
            await self._diverged(err)
        except ChainruleError as err:
            self._loop_ended()
            await self._send({"type": "error", "message": str(err)})
        except PageClosed:  # the tab closed mid-training: the app ends the session
            self._loop_ended()
        except Exception:  # a bug: stop, do not kill the server
            self._loop_ended()
            log.warning("training loop stopped", exc_info=True)

    def _loop_ended(self) -> None:
        """The training loop has stopped of itself: not playing, no task to cancel (before
        anything is sent, so that the page's next frame says so)."""
        self.playing = False
        self._task = None

    @staticmethod
    async def _run_epoch(trainer: Trainer) -> None:
        """``trainer.run_epoch()``, letting the other sessions run every ``TRAIN_BUDGET_S``
        (an epoch of 5,000 points one at a time would hold the server for seconds)."""
        start = time.perf_counter()
        trainer.step_minibatch()
        while trainer.in_epoch:
            if time.perf_counter() - start > TRAIN_BUDGET_S:
                await asyncio.sleep(0)
                start = time.perf_counter()
            trainer.step_minibatch()

    async def _diverged(self, err: DivergenceError) -> None:
        # The trainer restored the weights, not dL/dW: the gradients still hold the failed
        # step's overflow. Show the gradient of the restored weights over the training points.
        trainer = self.trainer
        with _quiet():
            if trainer is not None:
                self.net.loss_and_gradients(self.data.X_train, self.data.y_train)
            if trainer is None or not np.isfinite(self.net.gradient_vector).all():
                self.net.gradient_vector.fill(0.0)
        where = f"epoch {err.epoch + 1}, step {err.step + 1}"
        detail = f"{where}: {err.cause}" if err.cause else str(err)
        await self._send({"type": "diverged", "message": DIVERGENCE_HELP, "detail": detail})
        await self._send(self.frame(maps=True))

    # -- frames ---------------------------------------------------------------------------

    def _probabilities(self, h: Array) -> Array:
        """``h^(L)`` as class probabilities: softmax as is, a step unit as ``[1 - h, h]``."""
        proba: Array = np.hstack([1.0 - h, h]) if self.settings["output"] == "step" else h
        return proba

    def proba(self, X: Array) -> Array:
        """``P(Y = k | x)`` for each row of ``X``."""
        return self._probabilities(self.net.forward(X))

    def _predicted(self, h: Array) -> Labels:
        classes: Labels = (
            (h[:, 0] > 0.5).astype(np.int64)
            if self.settings["output"] == "step"
            else np.argmax(h, axis=1).astype(np.int64)
        )
        return classes

    def _evaluate(self, X: Array, y: Labels) -> dict[str, float | None] | None:
        """Loss and accuracy on one part of the data (leaves every layer's ``e``, ``h`` set)."""
        if len(X) == 0:
            return None
        h = self.net.propagate(X)
        correct = accuracy(y, self._predicted(h))
        loss = self.net.output_loss(y, self.net.loss) if self.net.loss is not None else None
        return {"loss": json_ready(loss), "accuracy": correct}

    def frame(self, *, maps: bool) -> dict[str, Any]:
        """Everything the page draws, for the current weights."""
        net, data, trainer = self.net, self.data, self.trainer
        hidden_layers = net.layers[:-1]
        view_layer = min(self.view["layer"], len(hidden_layers))
        with np.errstate(all="ignore"):
            test = self._evaluate(data.X_test, data.y_test)
            train = self._evaluate(data.X_train, data.y_train)
            dead = [
                int(np.all(layer.e <= 0, axis=0).sum())
                if layer.activation.name in ("relu", "leaky_relu") and layer.e is not None
                else None
                for layer in hidden_layers
            ]
            saturated = [_saturated(layer) for layer in hidden_layers] if train else None
            hidden_view: dict[str, Any] | None = None
            if view_layer >= 1:
                layer = hidden_layers[view_layer - 1]
                a, b = (min(n, layer.n_out - 1) for n in self.view["neurons"])
                assert layer.h is not None
                hidden_view = {
                    "layer": view_layer,
                    "neurons": [a, b],
                    "train": _f32(layer.h[:, [a, b]]),
                }
            probabilities = self._probabilities(net.propagate(self._grid))
            frame: dict[str, Any] = {
                "type": "frame",
                "epoch": trainer.epoch if trainer else 0,
                "steps": trainer.steps if trainer else 0,
                "playing": self.playing,
                "train": train,
                "test": test,
                "probabilities": _u8(probabilities),
                "weights": [_matrix(W) for W in net.weights],
                "gradients": [_matrix(g) for g in net.gradients],
                "gradient_norms": [json_ready(float(np.linalg.norm(g))) for g in net.gradients],
                "dead": dead,
                "saturated": saturated,
                "stuck": self._stuck(train, saturated),
            }
            if hidden_view is not None:
                h = hidden_layers[view_layer - 1].h
                assert h is not None
                hidden_view["grid"] = _f32(h[self._map_index][:, hidden_view["neurons"]])
                frame["hidden"] = hidden_view
            if maps:
                frame["maps"] = [self._activation_map(layer.h) for layer in net.layers]
        return frame

    def _stuck(self, train: dict[str, float | None] | None, saturated: list[int] | None) -> bool:
        """Whether to show the "stuck" hint: no new best training loss over the last
        :data:`STUCK_EPOCHS` epochs, training accuracy near chance and most hidden units
        saturated (see :data:`STUCK_SATURATED`)."""
        trainer = self.trainer
        if trainer is None or train is None or saturated is None or not saturated:
            return False
        history = trainer.history
        if len(history) <= STUCK_EPOCHS:
            return False
        if min(history[-STUCK_EPOCHS:]) < 0.99 * min(history[:-STUCK_EPOCHS]):
            return False  # a new best loss lately: it is learning
        chance = float(np.bincount(self.data.y_train).max() / len(self.data.y_train))
        accuracy = train["accuracy"]
        near_chance = accuracy is not None and accuracy <= chance + STUCK_ACCURACY
        return near_chance and sum(saturated) >= STUCK_SATURATED * sum(self.net.sizes[1:-1])

    def _activation_map(self, h: Array | None) -> dict[str, Any]:
        """Each neuron's ``h_j^(l)`` over the coarse grid, scaled to its own range."""
        assert h is not None
        values = h[self._map_index]
        low, high = values.min(axis=0), values.max(axis=0)
        span = np.where(high - low > 1e-12, high - low, 1.0)
        return {
            "low": [json_ready(float(v)) for v in low],
            "high": [json_ready(float(v)) for v in high],
            "data": _u8(((values - low) / span).T),
        }

    @property
    def n_points(self) -> int:
        """Training plus test points."""
        return len(self.data.X_train) + len(self.data.X_test)

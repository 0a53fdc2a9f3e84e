"""chainrule's model file: a safetensors file holding the weights plus a JSON description.

Layout
------
Tensors ``W1 .. WL``: the weight matrices, ``W^(l)`` of shape ``(n_out, n_in + 1)`` with the bias
in the last column (the lecture's layout), all float32 or all float64. Any other tensor is an
*extra* tensor: preprocessing statistics (``preprocess.mean``), optimizer state
(``opt.<name>.<i>``) and the like. Names of the form ``W<digits>`` are reserved for weights.

Metadata key ``chainrule``: one JSON document::

    {"format": "chainrule-model", "format_version": 2, "kind": "model" | "checkpoint",
     "chainrule_version": "0.1.0", "sizes": [n_0, n_1, ..., n_L], "activations": [...L names],
     "loss": "cross_entropy", "dtype": "float32" | "float64", "classes": [...] | null,
     "task": "classification" | "regression", "preprocessing": {...} | null,
     "training": {...} | null, "sha256": "<hex>", "extra_sha256": "<hex>",
     "header_sha256": "<hex>"}

``sha256`` is the SHA-256 of the weight bytes as stored (little-endian, C order), ``W1`` first.
``extra_sha256`` covers the extra tensors: for each, in name order, the UTF-8 name, its
safetensors dtype and its shape (each followed by a NUL byte), then its bytes. ``header_sha256``
covers the rest of the document (class labels, activations, preprocessing, ...): the SHA-256 of
its canonical JSON (keys sorted, no spaces) without the three digests. Together they catch any
change to the file's content; the file is refused on load if one does not match. Format 1 had no
``header_sha256`` and is refused too (save such a model again).

On load the description is checked as on save: known activation and loss names, distinct class
labels, classes only for a classification model, whose output activation must give class
probabilities (softmax or sigmoid) or decisions (step).

A checkpoint is the same file with ``kind="checkpoint"``: optimizer state arrays go in
``extra_tensors`` and the epoch, step and RNG state (``Generator.bit_generator.state``) in
``training``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from chainrule._version import __version__
from chainrule.engine.activations import ACTIVATIONS, Activation, names_of
from chainrule.engine.losses import LOSSES
from chainrule.engine.network import Network
from chainrule.errors import ModelFileError, ValidationError
from chainrule.serialization.safetensors_io import (
    InvalidFile,
    PathLike,
    file_path,
    invalid,
    is_json_int,
    parse_json_object,
    read_safetensors,
    safetensors_dtype,
    utf8,
    write_safetensors,
)

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "METADATA_KEY",
    "ClassLabel",
    "ModelFile",
    "load_model",
    "save_model",
]

Array = npt.NDArray[Any]
ClassLabel = str | int | float | bool

FORMAT = "chainrule-model"
FORMAT_VERSION = 2
METADATA_KEY = "chainrule"
KINDS = ("model", "checkpoint")
TASKS = ("classification", "regression")
DTYPES = ("float32", "float64")

_WEIGHT_NAME = re.compile(r"W[0-9]+\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


@dataclass(frozen=True, eq=False)
class ModelFile:
    """Everything a chainrule model file holds, validated.

    Attributes
    ----------
    weights:
        ``W^(1) .. W^(L)``; ``weights[l - 1]`` has shape ``(sizes[l], sizes[l - 1] + 1)``.
    sizes:
        Layer widths ``(n_0, n_1, ..., n_L)``: inputs first, outputs last.
    activations:
        One activation name per layer (``len(activations) == L``).
    loss, dtype, task:
        The loss name, ``"float32"`` or ``"float64"``, ``"classification"`` or ``"regression"``.
    classes:
        Class labels in output order, or ``None``.
    preprocessing, training:
        Free-form JSON objects (or ``None``) given to :func:`save_model`.
    extra_tensors:
        Every tensor that is not a weight, by name.
    kind:
        ``"model"`` or ``"checkpoint"``.
    format_version, chainrule_version:
        The file format version and the chainrule version that wrote the file.
    """

    weights: tuple[Array, ...]
    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    dtype: str
    classes: tuple[ClassLabel, ...] | None
    task: str
    preprocessing: dict[str, Any] | None
    training: dict[str, Any] | None
    extra_tensors: dict[str, Array] = field(default_factory=dict)
    kind: str = "model"
    format_version: int = FORMAT_VERSION
    chainrule_version: str = "0+unknown"

    @property
    def n_layers(self) -> int:
        """``L``, the number of weight layers."""
        return len(self.weights)

    def network(self) -> Network:
        """The :class:`~chainrule.engine.network.Network` these weights, activations and loss
        make, ready to predict or train on (``load_model(path).network()``).

        Raises
        ------
        ValidationError
            For a model that standardises its inputs or targets (``preprocessing``, as every
            model of ``chainrule train`` does): a bare network would take raw data for
            standardised data and predict wrongly. ``FittedModel.load(path)`` applies it.
        """
        scaled = sorted({"standardizer", "target_standardizer"} & set(self.preprocessing or {}))
        if scaled:
            raise ValidationError(
                f"this model standardises its data ({', '.join(scaled)} in its preprocessing), "
                "which a bare Network does not: load it with chainrule.fit.FittedModel.load(path) "
                "to predict in the data's units"
            )
        return Network.from_weights(self.weights, list(self.activations), loss=self.loss)


def _le_bytes(array: Array) -> memoryview:
    """The array's bytes as safetensors stores them: little-endian, C order (no copy if already)."""
    stored = np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")
    return stored.reshape(-1).view(np.uint8).data


def _weights_digest(weights: Sequence[Array]) -> str:
    digest = hashlib.sha256()
    for w in weights:
        digest.update(_le_bytes(w))
    return digest.hexdigest()


_DIGESTS = ("sha256", "extra_sha256", "header_sha256")
_CLASSIFIER_OUTPUTS = ("softmax", "sigmoid", "step")


def _header_digest(document: Mapping[str, Any]) -> str:
    """SHA-256 of the description without its digests, as canonical JSON."""
    described = {key: value for key, value in document.items() if key not in _DIGESTS}
    text = json.dumps(
        described, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(utf8(text)).hexdigest()


def _check_names(activations: Sequence[str], loss: str) -> None:
    """Activation and loss names that this chainrule knows."""
    for l, name in enumerate(activations, start=1):
        if name not in ACTIVATIONS:
            raise ValidationError(
                f"layer {l}'s activation {name!r} is not one of {', '.join(sorted(ACTIVATIONS))}"
            )
    if loss not in LOSSES:
        raise ValidationError(f"loss {loss!r} is not one of {', '.join(sorted(LOSSES))}")


def _check_task(task: str, classes: object, output: str) -> None:
    if task == "regression" and classes is not None:
        raise ValidationError("classes must be None for a regression model")
    if task == "classification" and output not in _CLASSIFIER_OUTPUTS:
        raise ValidationError(
            f"a classification model needs a {', '.join(_CLASSIFIER_OUTPUTS)} output layer; "
            f"this one is {output!r}"
        )


def _extra_digest(extra: Mapping[str, Array]) -> str:
    digest = hashlib.sha256()
    for name in sorted(extra):
        array = extra[name]
        dtype = safetensors_dtype(name, array)  # ValidationError for dtypes the file cannot hold
        digest.update(utf8(name) + b"\0")
        digest.update(dtype.encode("ascii") + b"\0")
        digest.update(json.dumps(list(array.shape)).encode("ascii") + b"\0")
        digest.update(_le_bytes(array))
    return digest.hexdigest()


def _nonfinite_summary(w: Array) -> str | None:
    if bool(np.isfinite(w).all()):
        return None
    parts = []
    n_nan = int(np.isnan(w).sum())
    n_inf = int(np.isinf(w).sum())
    if n_nan:
        parts.append(f"{n_nan} NaN")
    if n_inf:
        parts.append(f"{n_inf} infinite")
    return " and ".join(parts) + " values"


def _json_default(value: object) -> object:
    # numpy scalars and arrays (e.g. an MT19937 state's key) become plain JSON values.
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json_object(name: str, value: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValidationError(f"{name} must be a dict or None; got {type(value).__name__}")
    try:
        text = json.dumps(dict(value), default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{name} must be JSON-serializable without NaN/inf: {exc}") from exc
    result: dict[str, Any] = json.loads(
        text, object_pairs_hook=lambda pairs: _one_each(name, pairs)
    )
    return result


def _one_each(name: str, pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object's pairs as a dict, refusing a key written twice: JSON keys are text, so
    the keys ``1`` and ``"1"`` (or ``True`` and ``"true"``) of one dict become one, and the file
    would silently keep only the last value."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ValidationError(
                f"{name} has two keys that JSON writes as {key!r} (such as 1 and '1'); "
                "give them different names"
            )
        seen.add(key)
    return dict(pairs)


def _check_classes(
    classes: Sequence[ClassLabel] | Array | None, n_out: int
) -> list[ClassLabel] | None:
    if classes is None:
        return None
    if isinstance(classes, (str, bytes)) or not (
        isinstance(classes, Sequence) or hasattr(classes, "__array__")
    ):
        raise ValidationError(f"classes must be a list of labels or None; got {classes!r:.80}")
    if not isinstance(classes, Sequence):  # pandas' Index, Series and arrays: as numpy sees them
        classes = np.asarray(classes)
    if isinstance(classes, np.ndarray) and classes.ndim != 1:
        raise ValidationError(f"classes must be 1-D; got an array of shape {classes.shape}")
    items: list[Any] = classes.tolist() if isinstance(classes, np.ndarray) else list(classes)
    items = [c.item() if isinstance(c, np.generic) else c for c in items]
    for i, label in enumerate(items):
        if not isinstance(label, (str, int, float, bool)):
            raise ValidationError(
                f"classes[{i}] must be a str, int, float or bool; got {type(label).__name__}"
            )
        if isinstance(label, float) and not math.isfinite(label):
            raise ValidationError(f"classes[{i}] must be finite; got {label}")
    if len({(type(c), c) for c in items}) != len(items):
        raise ValidationError(f"classes must be distinct; got {items!r:.200}")
    if not (len(items) == n_out or (n_out == 1 and len(items) == 2)):
        raise ValidationError(
            f"classes has {len(items)} labels but the network has {n_out} outputs; expected "
            f"{n_out} labels (or 2 with a single output unit)"
        )
    return items


def _check_weights(weights: Sequence[Array]) -> list[int]:
    """Validate the weight list; return the layer sizes (n_0, ..., n_L)."""
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence):
        raise ValidationError("weights must be a list of 2-D arrays W1..WL")
    if len(weights) == 0:
        raise ValidationError("weights must hold at least one matrix; got an empty list")
    sizes: list[int] = []
    for l, w in enumerate(weights, start=1):
        if not isinstance(w, np.ndarray):
            raise ValidationError(f"W{l} must be a numpy array; got {type(w).__name__}")
        if w.ndim != 2 or w.shape[0] < 1 or w.shape[1] < 2:
            raise ValidationError(
                f"W{l} must be 2-D of shape (n_out, n_in + 1) with n_out, n_in >= 1; "
                f"got shape {w.shape}"
            )
        # by name: either byte order is fine, the file stores little-endian (_le_bytes)
        if w.dtype.name not in ("float32", "float64"):
            raise ValidationError(f"W{l} must be float32 or float64; got {w.dtype}")
        if w.dtype.name != weights[0].dtype.name:
            raise ValidationError(
                f"all weights must share one dtype; W1 is {weights[0].dtype}, W{l} is {w.dtype}"
            )
        if l == 1:
            sizes.append(w.shape[1] - 1)
        elif w.shape[1] != sizes[-1] + 1:
            raise ValidationError(
                f"W{l} has {w.shape[1]} columns but W{l - 1} has {sizes[-1]} outputs; "
                f"expected {sizes[-1] + 1} columns (n_in + 1 with the bias)"
            )
        sizes.append(w.shape[0])
    for l, w in enumerate(weights, start=1):
        problem = _nonfinite_summary(w)
        if problem is not None:
            raise ValidationError(f"refusing to save non-finite weights: W{l} has {problem}")
    return sizes


def _description(
    path: object,
    network: object,
    *,
    weights: Sequence[Array] | None,
    activations: Sequence[str] | Sequence[Activation] | None,
    loss: str | None,
    task: str | None,
) -> tuple[Sequence[Array], Sequence[str] | Sequence[Activation], str, str | None]:
    """What :func:`save_model` saves: the ``network``'s weights, activations, loss and task, or
    the ``weights``, ``activations`` and ``loss`` given instead, checked to be one or the other."""
    if isinstance(path, Network):
        raise ValidationError(
            "save_model(path, network): the file's path comes first; got a network as the path"
        )
    if network is None:
        if weights is None or activations is None or loss is None:
            given = {"weights": weights, "activations": activations, "loss": loss}
            missing = " or ".join(f"{name}=" for name, value in given.items() if value is None)
            raise ValidationError(
                "save_model needs a network, save_model(path, net), or weights=, activations= "
                f"and loss=; got no {missing}"
            )
        return weights, activations, loss, task
    if not isinstance(network, Network):
        raise ValidationError(f"network must be a chainrule Network; got {type(network).__name__}")
    if weights is not None or activations is not None:
        raise ValidationError(
            "give save_model a network or its weights= and activations=, not both"
        )
    chosen = network._resolve_loss(loss)  # a network without a loss needs loss=
    if type(chosen) is not type(LOSSES.get(chosen.name)):  # as names_of checks activations
        raise ValidationError(
            f"the network's loss {chosen!r} is not the registered {chosen.name!r}: a model file "
            "records the loss by name only; pass loss= a registered name to save it"
        )
    resolved = chosen.name
    if task is None:
        task = "regression" if resolved == "mse" else "classification"
    return network.weights, network.activation_functions, resolved, task


def save_model(
    path: PathLike,
    network: Network | None = None,
    *,
    weights: Sequence[Array] | None = None,
    activations: Sequence[str] | Sequence[Activation] | None = None,
    loss: str | None = None,
    classes: Sequence[ClassLabel] | Array | None = None,
    task: str | None = None,
    preprocessing: Mapping[str, Any] | None = None,
    training: Mapping[str, Any] | None = None,
    extra_tensors: Mapping[str, Array] | None = None,
    kind: str = "model",
) -> None:
    """Save a network's weights and description to ``path`` (atomically; no pickle).

    Parameters
    ----------
    path:
        Target file, conventionally ``*.safetensors``. Written to a temporary file and renamed.
    network:
        A :class:`~chainrule.engine.network.Network` to save (``save_model(path, net)``): its
        weights, activations and loss (``loss=`` gives one to a network without), and by default
        the task its loss implies (``mse``: regression). Or give these three instead:
    weights:
        ``[W1, ..., WL]``, ``W^(l)`` of shape ``(n_l, n_{l-1} + 1)``, all float32 or all float64,
        all finite.
    activations:
        One activation name per layer, or the layers' activation objects
        (``net.activation_functions``): the file records names, so an object whose parameters
        differ from its name's (``LeakyReLU(0.3)``; the name means slope 0.01) is refused
        rather than saved as a different network.
    loss:
        The loss name.
    classes:
        Class labels in output order (``len == n_L``, or 2 with one sigmoid output), or ``None``.
    task:
        ``"classification"`` or ``"regression"``; ``None`` means classification when ``classes``
        is given, else regression.
    preprocessing, training:
        JSON-serializable dicts (numpy scalars and arrays are converted to plain JSON values).
    extra_tensors:
        Further named arrays (preprocessing statistics, optimizer state). Names of the form
        ``W<digits>`` are reserved.
    kind:
        ``"model"`` or ``"checkpoint"``.

    Raises
    ------
    ValidationError
        An argument is malformed: weights empty, not 2-D float32/float64 of one dtype, shapes that
        do not chain, non-finite values, wrong number of activations, bad classes, ...
    ModelFileError
        The file cannot be written; any previous file at ``path`` is unchanged.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "xor.safetensors")
    >>> W1 = np.array([[1., 1., -0.5], [1., 1., -1.5]], np.float32)
    >>> W2 = np.array([[1., -2., -0.5]], np.float32)
    >>> save_model(p, weights=[W1, W2], activations=["step", "step"], loss="mse", task="regression")
    >>> load_model(p).sizes
    (2, 2, 1)
    >>> save_model(p, load_model(p).network())   # a Network: its weights, activations, loss
    """
    weights, activations, loss, task = _description(
        path, network, weights=weights, activations=activations, loss=loss, task=task
    )
    sizes = _check_weights(weights)
    n_layers = len(weights)
    if isinstance(activations, str) or not isinstance(activations, Sequence):
        raise ValidationError("activations must be a list of activation names, one per layer")
    names: list[Any] = list(activations)
    if names and all(isinstance(a, Activation) for a in names):
        names = names_of(names)
    if len(names) != n_layers:
        raise ValidationError(
            f"activations has {len(names)} names but there are {n_layers} weight "
            f"matrices; expected one activation per layer"
        )
    for i, name in enumerate(names):
        if not isinstance(name, str) or not name:
            raise ValidationError(f"activations[{i}] must be a non-empty string; got {name!r}")
    if not isinstance(loss, str) or not loss:
        raise ValidationError(f"loss must be a non-empty string; got {loss!r}")
    _check_names(names, loss)
    if kind not in KINDS:
        raise ValidationError(f"kind must be one of {KINDS}; got {kind!r}")
    if task is None:
        task = "classification" if classes is not None else "regression"
    if task not in TASKS:
        raise ValidationError(f"task must be one of {TASKS}; got {task!r}")
    _check_task(task, classes, names[-1])
    labels = _check_classes(classes, sizes[-1])
    if extra_tensors is not None and not isinstance(extra_tensors, Mapping):
        raise ValidationError(
            f"extra_tensors must be a dict of name -> array; got {type(extra_tensors).__name__}"
        )
    extra = dict(extra_tensors or {})
    for name, array in extra.items():
        if not isinstance(name, str) or not name:
            raise ValidationError(f"extra tensor names must be non-empty strings; got {name!r}")
        if _WEIGHT_NAME.match(name):
            raise ValidationError(
                f"extra tensor name {name!r} is reserved for weights (W<digits>); rename it"
            )
        if not isinstance(array, np.ndarray):
            raise ValidationError(
                f"extra tensor {name!r} must be a numpy array; got {type(array).__name__}"
            )
    dtype = weights[0].dtype.name  # "float32" whatever the byte order
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "chainrule_version": __version__,
        "sizes": sizes,
        "activations": list(names),
        "loss": loss,
        "dtype": dtype,
        "classes": labels,
        "task": task,
        "preprocessing": _json_object("preprocessing", preprocessing),
        "training": _json_object("training", training),
        "sha256": _weights_digest(weights),
        "extra_sha256": _extra_digest(extra),
    }
    document["header_sha256"] = _header_digest(document)
    tensors: dict[str, Array] = {f"W{l}": w for l, w in enumerate(weights, start=1)}
    tensors.update(extra)
    # write_safetensors rejects extra tensors of dtypes safetensors cannot hold (complex, object,
    # ...) before anything is written.
    metadata = {METADATA_KEY: json.dumps(document, allow_nan=False, ensure_ascii=False)}
    write_safetensors(path, tensors, metadata)


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------


def _field(doc: dict[str, Any], key: str, types: type | tuple[type, ...], what: str) -> Any:
    if key not in doc:
        invalid(f"the 'chainrule' metadata has no {key!r}")
    value = doc[key]
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in _tuple(types)):
        invalid(f"{key!r} must be {what}; got {json.dumps(value)[:80]}")
    return value


def _tuple(types: type | tuple[type, ...]) -> tuple[type, ...]:
    return types if isinstance(types, tuple) else (types,)


def _decode_model(tensors: dict[str, Array], doc: dict[str, Any]) -> ModelFile:
    version = _field(doc, "format_version", int, "an integer")
    if version > FORMAT_VERSION:
        raise _NewerFormat(version)
    if version < FORMAT_VERSION:
        invalid(
            f"format_version {version} has no checksum of its description; this version reads "
            f"format {FORMAT_VERSION}: save the model again with this chainrule"
        )
    kind = doc.get("kind", "model")
    if kind not in KINDS:
        invalid(f"'kind' must be one of {KINDS}; got {json.dumps(kind)[:80]}")
    chainrule_version = _field(doc, "chainrule_version", str, "a string")
    sizes = _field(doc, "sizes", list, "a list of layer widths")
    if len(sizes) < 2 or not all(is_json_int(n) and n >= 1 for n in sizes):
        invalid(f"'sizes' must list at least 2 positive integers; got {json.dumps(sizes)[:80]}")
    n_layers = len(sizes) - 1
    activations = _field(doc, "activations", list, "a list of activation names")
    if not all(isinstance(a, str) and a for a in activations):
        invalid("'activations' must be a list of non-empty strings")
    if len(activations) != n_layers:
        invalid(
            f"{len(activations)} activations for {n_layers} layers (sizes {sizes}); "
            "expected one per layer"
        )
    loss = _field(doc, "loss", str, "a string")
    dtype = _field(doc, "dtype", str, "'float32' or 'float64'")
    if dtype not in DTYPES:
        invalid(f"'dtype' must be 'float32' or 'float64'; got {dtype!r}")
    task = _field(doc, "task", str, "a string")
    if task not in TASKS:
        invalid(f"'task' must be one of {TASKS}; got {task!r}")
    classes = _field(doc, "classes", (list, type(None)), "a list of labels or null")
    preprocessing = _field(doc, "preprocessing", (dict, type(None)), "an object or null")
    training = _field(doc, "training", (dict, type(None)), "an object or null")
    digests = {key: _field(doc, key, str, "a hex SHA-256 digest") for key in _DIGESTS}
    for key, digest in digests.items():
        if not _HEX64.match(digest):
            invalid(f"{key!r} is not a hex SHA-256 digest: {digest[:80]!r}")
    if _header_digest(doc) != digests["header_sha256"]:
        invalid("the description does not match its checksum: the file was modified or corrupted")
    try:  # the checks of save_model: a file that passes them was written by it
        _check_names(activations, loss)
        _check_task(task, classes, activations[-1])
        _check_classes(classes, sizes[-1])
    except ValidationError as err:
        invalid(str(err))

    weight_names = [f"W{l}" for l in range(1, n_layers + 1)]
    missing = [name for name in weight_names if name not in tensors]
    if missing:
        invalid(
            f"sizes {sizes} call for {n_layers} weight matrices but {', '.join(missing)} missing"
        )
    unexpected = sorted(n for n in tensors if _WEIGHT_NAME.match(n) and n not in weight_names)
    if unexpected:
        invalid(
            f"sizes {sizes} call for {n_layers} weight matrices but the file also holds "
            f"{', '.join(unexpected)}"
        )
    weights = tuple(tensors[name] for name in weight_names)
    for l, w in enumerate(weights, start=1):
        expected_shape = (sizes[l], sizes[l - 1] + 1)
        if w.shape != expected_shape:
            invalid(f"W{l} has shape {w.shape}; sizes {sizes} call for {expected_shape}")
        if str(w.dtype) != dtype:
            invalid(f"W{l} is {w.dtype} but the file says {dtype}")
    if _weights_digest(weights) != digests["sha256"]:
        invalid("weights do not match their checksum: the file was modified or corrupted")
    extra = {name: t for name, t in tensors.items() if name not in weight_names}
    if _extra_digest(extra) != digests["extra_sha256"]:
        invalid("extra tensors do not match their checksum: the file was modified or corrupted")
    for l, w in enumerate(weights, start=1):
        problem = _nonfinite_summary(w)
        if problem is not None:
            invalid(f"W{l} has {problem}")
    return ModelFile(
        weights=weights,
        sizes=tuple(sizes),
        activations=tuple(activations),
        loss=loss,
        dtype=dtype,
        classes=None if classes is None else tuple(classes),
        task=task,
        preprocessing=preprocessing,
        training=training,
        extra_tensors=extra,
        kind=kind,
        format_version=version,
        chainrule_version=chainrule_version,
    )


class _NewerFormat(Exception):
    def __init__(self, version: int) -> None:
        super().__init__(version)
        self.version = version


def load_model(path: PathLike, *, max_bytes: int | None = None) -> ModelFile:
    """Load and validate a chainrule model (or checkpoint) file written by :func:`save_model`.

    Parameters
    ----------
    path:
        The file.
    max_bytes:
        Refuse files larger than this (``None``: no limit), e.g. for uploads.

    Raises
    ------
    ValidationError
        ``path`` is no file path (``None``, a number).
    ModelFileError
        Not a valid safetensors file; no ``chainrule`` metadata; another format; written by a
        newer chainrule; sizes, activations and tensors that disagree; a checksum mismatch
        (the file was modified or corrupted); non-finite weights. The message names the file.
    """
    where = file_path(path)
    tensors, metadata = read_safetensors(where, max_bytes=max_bytes)
    if METADATA_KEY not in metadata:
        raise ModelFileError(
            f"{where!r} is not a chainrule model file: it is a safetensors file without "
            f"{METADATA_KEY!r} metadata"
        )
    try:
        doc = parse_json_object(metadata[METADATA_KEY], "the 'chainrule' metadata")
        if doc.get("format") != FORMAT:
            raise ModelFileError(
                f"{where!r} is not a chainrule model file: its format is "
                f"{json.dumps(doc.get('format'))[:80]}, expected {FORMAT!r}"
            )
        return _decode_model(tensors, doc)
    except _NewerFormat as exc:
        raise ModelFileError(
            f"{where!r} was written by a newer chainrule (format {exc.version}); this version "
            f"reads format {FORMAT_VERSION}: upgrade chainrule to load it"
        ) from None
    except InvalidFile as exc:
        raise ModelFileError(f"invalid chainrule model file {where!r}: {exc}") from None

"""Export a trained network to ONNX (opset 17), standardisation included, in its own precision.

The graph is the lecture's forward pass, one node per equation::

    x          = (input - mean) / scale                      Sub, Div   (when standardised)
    e^(l)      = h^(l-1) W^(l)[:, :-1]^T + W^(l)[:, -1]      Gemm(transB=1)
    h^(l)      = g^(l)(e^(l))                                Sigmoid, Tanh, Relu, LeakyRelu,
                                                             Softmax(axis=-1), Greater+Cast (step)
    output     = probabilities (classifier) or values (regressor)

The graph computes in the network's dtype: a float32 network (the default) gives a float32 graph
(input, weights, output), a float64 network a float64 one that agrees with it to float64 rounding,
so it takes float64 input. In a float64 graph a leaky ReLU is ``Max(e, Mul(e, slope))``, as the
engine computes it: ``LeakyRelu``'s ``alpha`` is a float32 attribute, which would round the slope.

A classifier's single sigmoid unit becomes the two columns ``[1 - p, p]`` (as ``predict_proba``); a
regressor trained on standardised targets gets ``y = h * scale + mean`` (Mul, Add). The model is
checked with ``onnx.checker.check_model(full_check=True)`` and written atomically.

Needs the ``onnx`` package (``pip install chainrule[onnx]``).
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

import onnx
from chainrule._version import __version__
from chainrule.datasets import Standardizer
from chainrule.engine.activations import Activation, LeakyReLU, names_of
from chainrule.engine.network import Network
from chainrule.errors import ValidationError
from chainrule.serialization.safetensors_io import PathLike, atomic_write, file_path
from onnx import helper, numpy_helper

__all__ = ["OPSET", "build_onnx", "export_onnx"]

OPSET = 17
"""The ONNX operator set the graphs use."""

_ELEMENTWISE = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu"}

MAX_CONSTANT_BYTES = onnx.checker.MAXIMUM_PROTOBUF - 2**20
"""What the weights and statistics of one graph may take: an ONNX file is one protobuf message of
at most 2 GiB, of which 1 MiB is left for the nodes and the metadata."""


def _check_size(net: Network) -> None:
    """Refuse, before copying anything, a network whose constants no ONNX file can hold: protobuf
    would fail deep inside ``onnx`` with "Failed to serialize proto"."""
    n_in, n_out = net.sizes[0], net.sizes[-1]
    n_values = net.n_parameters + 2 * (n_in + n_out)  # weights, at most two statistics each end
    n_bytes = n_values * net.dtype.itemsize
    if n_bytes > MAX_CONSTANT_BYTES:
        halve = "; a float32 copy of it would take half" if net.dtype == np.float64 else ""
        raise ValidationError(
            f"the network's {net.n_parameters:,} weights take {n_bytes:,} bytes as {net.dtype}; "
            f"one ONNX file holds at most {MAX_CONSTANT_BYTES:,} bytes of them (protobuf's 2 GiB "
            f"limit), so this network cannot be exported to ONNX{halve}"
        )


@dataclass(frozen=True)
class _Exportable:
    """What the graph needs, whatever the model was given as."""

    net: Network
    task: str  # "classification" or "regression"
    classes: list[Any] | None
    standardizer: Standardizer | None
    target_scaler: Standardizer | None
    feature_names: list[str] | None = None  # the input's columns, in order, when known


def _resolve(model: Any, standardizer: Standardizer | None) -> _Exportable:
    """A Network, a fitted chainrule estimator (alone or after a StandardScaler in a Pipeline),
    a FittedModel or a model-file path."""
    from chainrule.fit import FittedModel

    standardizer = _as_standardizer(standardizer)
    if isinstance(model, str | os.PathLike):
        model = FittedModel.load(model)
    if isinstance(model, FittedModel):
        if standardizer is not None and model.standardizer is not None:
            raise ValidationError(
                "standardizer= was given but the model file has its own standardisation; "
                "leave standardizer out"
            )
        return _Exportable(
            model.net,
            model.task,
            model.labels,  # of their own type: integer classes 0, 1, 2 stay numbers
            model.standardizer or standardizer,
            model.target_scaler,
            model.feature_names,
        )
    if isinstance(model, Network):
        return _Exportable(model, _network_task(model), None, standardizer, None)
    names = _feature_names(model)
    if hasattr(model, "steps"):  # a scikit-learn Pipeline
        scaler, model = _unpack_pipeline(model)
        if standardizer is not None and scaler is not None:
            raise ValidationError(
                "standardizer= was given but the pipeline has its own StandardScaler; "
                "leave standardizer out"
            )
        standardizer = scaler or standardizer
    network = getattr(model, "network_", None)
    if isinstance(network, Network):  # a fitted chainrule estimator
        classes = getattr(model, "classes_", None)
        task = "classification" if classes is not None else "regression"
        labels = None if classes is None else np.asarray(classes).tolist()
        return _Exportable(network, task, labels, standardizer, None, names)
    raise ValidationError(
        "export_onnx needs a Network, a fitted chainrule estimator, a FittedModel or a model "
        f"file path; got {_describe(model)}"
    )


def _network_task(net: Network) -> str:
    """What a bare network does, as its own ``predict`` decides: class probabilities from a
    softmax or sigmoid output, unless it was built with the ``mse`` loss, whose outputs are
    values (a sigmoid then gives values in (0, 1), not ``[1 - p, p]``). A model file of the same
    network says "regression" too, so the network and its file export the same graph."""
    classes = net.activations[-1] in ("softmax", "sigmoid") and not net.predicts_values
    return "classification" if classes else "regression"


def _describe(model: Any) -> str:
    """What ``model`` is, for the message that refuses it: an unfitted chainrule estimator needs
    ``fit``, another library's estimator (fitted or not) needs that library's converter."""
    kind = type(model)
    if not hasattr(model, "get_params"):
        return kind.__name__
    if kind.__module__.split(".")[0] == "chainrule":
        return f"{kind.__name__} (not fitted yet: call fit first)"
    return (
        f"{kind.__module__}.{kind.__qualname__}, not a chainrule estimator (fit "
        "chainrule.MLPClassifier or MLPRegressor instead, or convert this one with its own "
        "library's exporter, e.g. skl2onnx)"
    )


def _feature_names(estimator: Any) -> list[str] | None:
    """The column names a scikit-learn estimator or Pipeline was fitted on (a DataFrame's)."""
    names = getattr(estimator, "feature_names_in_", None)
    return None if names is None else [str(name) for name in names]


def _unpack_pipeline(pipeline: Any) -> tuple[Standardizer | None, Any]:
    """``Pipeline([StandardScaler(), estimator])`` (or just the estimator): its standardisation
    as a :class:`Standardizer` and the final step."""
    from sklearn.preprocessing import StandardScaler  # type: ignore[import-untyped, unused-ignore]

    steps = [step for _, step in pipeline.steps if step not in (None, "passthrough")]
    if len(steps) == 1:
        return None, steps[0]
    if len(steps) != 2 or not isinstance(steps[0], StandardScaler):
        names = ", ".join(type(step).__name__ for step in steps)
        raise ValidationError(
            "export_onnx takes a Pipeline of a StandardScaler and a chainrule estimator; "
            f"this one has {names}"
        )
    scaler, estimator = steps
    return _from_standard_scaler(scaler, "the Pipeline's StandardScaler"), estimator


def _from_standard_scaler(scaler: Any, what: str) -> Standardizer:
    """A fitted scikit-learn ``StandardScaler`` as the :class:`Standardizer` it applies."""
    if not hasattr(scaler, "n_features_in_"):
        raise ValidationError(f"{what} is not fitted yet: call fit first")
    n = int(scaler.n_features_in_)
    mean = scaler.mean_ if scaler.with_mean else np.zeros(n)  # mean_ is kept but not applied
    scale = scaler.scale_ if scaler.with_std else np.ones(n)
    document = {
        "type": "Standardizer",
        "version": 1,
        "mean": [float(v) for v in mean],
        "scale": [float(v) for v in scale],
    }
    return Standardizer.from_dict(document)


def _as_standardizer(given: Any) -> Standardizer | None:
    """The ``standardizer=`` argument as a :class:`Standardizer`. A scikit-learn
    ``StandardScaler`` is converted as in a Pipeline: read as one, its ``mean_`` would be
    subtracted even with ``with_mean=False``, where ``transform`` does not subtract it."""
    if given is None or isinstance(given, Standardizer):
        return given
    # A StandardScaler exists only once scikit-learn is imported: no import needed to tell.
    sklearn_preprocessing = sys.modules.get("sklearn.preprocessing")
    if sklearn_preprocessing is not None and isinstance(
        given, sklearn_preprocessing.StandardScaler
    ):
        return _from_standard_scaler(given, "the StandardScaler given as standardizer=")
    raise ValidationError(
        "standardizer= takes a fitted chainrule.datasets.Standardizer or scikit-learn "
        f"StandardScaler; got {type(given).__name__} (put other preprocessing in the data "
        "before it reaches the model)"
    )


class _Graph:
    """Collects nodes and initializers of one float dtype (the network's), naming each tensor
    once."""

    def __init__(self, dtype: np.dtype[Any]) -> None:
        self.dtype = dtype  # float32 or float64
        self.elem_type = helper.np_dtype_to_tensor_dtype(dtype)
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []

    def constant(
        self,
        name: str,
        values: NDArray[Any] | float,
        what: str | None = None,
        *,
        divisor: bool = False,
    ) -> str:
        """Add ``values`` as the initializer ``name`` in the graph's dtype; ``what`` names them in
        a refusal.

        In a float32 graph, values below float32's range become 0 or subnormal, as float32
        arithmetic would make them; NaN, infinities and magnitudes above the dtype's range (a
        float64 standardisation's, in a float32 graph) are refused: the graph would compute inf
        and NaN from them without a word. So are values of a ``divisor`` that become 0.
        """
        with np.errstate(over="ignore", under="ignore"):
            array = np.ascontiguousarray(values, dtype=self.dtype)
        if not np.isfinite(array).all():
            problem = (
                "NaN or infinite values"
                if not np.isfinite(values).all()
                else f"values beyond {self.dtype}'s range (+-{np.finfo(self.dtype).max:.4g})"
            )
            raise ValidationError(
                f"{what or name} has {problem}; the ONNX graph computes in {self.dtype} "
                "(the network's dtype)"
            )
        if divisor and not array.all():
            tiny = np.asarray(values).ravel()[np.flatnonzero(array == 0)[0]]
            raise ValidationError(
                f"{what or name} has values below {self.dtype}'s range ({tiny:.3g} becomes 0); "
                f"the ONNX graph computes in {self.dtype} (the network's dtype) and would divide "
                "by zero: export a float64 network, or rescale that feature"
            )
        self.initializers.append(numpy_helper.from_array(array, name=name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attributes: Any) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output


def _layer(graph: _Graph, l: int, W: NDArray[Any], g: Activation, h_prev: str) -> str:
    """Nodes of layer ``l``: ``e^(l) = h^(l-1) W^T + b`` (Gemm), then ``h^(l) = g(e^(l))``."""
    # (n_out, n_in): Gemm multiplies by its transpose
    weights = graph.constant(f"W{l}", W[:, :-1], f"W^({l})")
    bias = graph.constant(f"b{l}", W[:, -1], f"W^({l})")  # the bias column: weights on the 1
    e = graph.node("Gemm", [h_prev, weights, bias], f"e{l}", transB=1)
    h = f"h{l}"
    activation = g.name
    if activation in _ELEMENTWISE:
        return graph.node(_ELEMENTWISE[activation], [e], h)
    if isinstance(g, LeakyReLU) and graph.dtype == np.float32:
        return graph.node("LeakyRelu", [e], h, alpha=float(g.slope))
    if isinstance(g, LeakyReLU):  # alpha is a float32 attribute: the slope as a float64 constant
        slope = graph.constant(f"slope{l}", g.slope, f"layer {l}'s leaky ReLU slope")
        return graph.node("Max", [e, graph.node("Mul", [e, slope], f"sloped{l}")], h)
    if activation == "softmax":
        return graph.node("Softmax", [e], h, axis=-1)
    if activation == "step":
        # u(e) = 1 if e > 0 else 0
        zero = graph.constant(f"zero{l}", 0.0)
        positive = graph.node("Greater", [e, zero], f"positive{l}")
        return graph.node("Cast", [positive], h, to=graph.elem_type)
    if activation == "identity":
        return e  # h = e
    raise ValidationError(f"activation {activation!r} has no ONNX export")


def build_onnx(model: Any, *, standardizer: Standardizer | None = None) -> onnx.ModelProto:
    """The checked ONNX model for ``model`` (see :func:`export_onnx`), without writing it."""
    spec = _resolve(model, standardizer)
    net = spec.net
    _check_size(net)
    n_in, n_out = net.sizes[0], net.sizes[-1]
    if spec.standardizer is not None and spec.standardizer.n_features_in_ != n_in:
        raise ValidationError(
            f"the standardizer has {spec.standardizer.n_features_in_} features but the network "
            f"takes {n_in} inputs"
        )
    if spec.target_scaler is not None and spec.target_scaler.n_features_in_ != n_out:
        raise ValidationError(
            f"the target standardizer has {spec.target_scaler.n_features_in_} columns but the "
            f"network gives {n_out} outputs"
        )
    # Registered activations only (a subclass named "relu" would be exported as Relu); their
    # parameters may differ from the registered ones', the graph writes them (a slope).
    names_of(
        net.activation_functions,
        parameters=False,
        use="the ONNX export writes registered activations as their ONNX operators, so this "
        "network cannot be exported",
    )
    graph = _Graph(net.dtype)
    h = "input"
    if spec.standardizer is not None:
        assert spec.standardizer.mean_ is not None and spec.standardizer.scale_ is not None
        # x = (input - mean) / scale
        mean = graph.constant("mean", spec.standardizer.mean_, "the standardizer's mean")
        scale = graph.constant(
            "scale", spec.standardizer.scale_, "the standardizer's scale", divisor=True
        )
        centred = graph.node("Sub", [h, mean], "centred")
        h = graph.node("Div", [centred, scale], "x")
    layers = zip(net.weights, net.activation_functions, strict=True)
    for l, (W, g) in enumerate(layers, start=1):
        h = _layer(graph, l, W, g, h)
    output = net.activations[-1]
    if spec.task == "classification":
        if output not in ("softmax", "sigmoid"):
            raise ValidationError(
                f"a classifier needs a softmax or sigmoid output layer to give probabilities; "
                f"this one is {output!r}"
            )
        if output == "sigmoid" and n_out == 1:
            # P(class 0) = 1 - p, P(class 1) = p
            one = graph.constant("one", 1.0)
            complement = graph.node("Sub", [one, h], "complement")
            h = graph.node("Concat", [complement, h], "probabilities", axis=1)
            n_out = 2
        else:
            h = graph.node("Identity", [h], "probabilities")
    elif spec.target_scaler is not None:
        assert spec.target_scaler.mean_ is not None and spec.target_scaler.scale_ is not None
        # y = h * scale + mean: undo the targets' standardisation
        target = "the target standardizer's"
        scale = graph.constant("target_scale", spec.target_scaler.scale_, f"{target} scale")
        mean = graph.constant("target_mean", spec.target_scaler.mean_, f"{target} mean")
        h = graph.node("Add", [graph.node("Mul", [h, scale], "scaled"), mean], "values")
    else:
        h = graph.node("Identity", [h], "values")
    inputs = [helper.make_tensor_value_info("input", graph.elem_type, ["N", n_in])]
    outputs = [helper.make_tensor_value_info(h, graph.elem_type, ["N", n_out])]
    onnx_graph = helper.make_graph(
        graph.nodes, "chainrule", inputs, outputs, initializer=graph.initializers
    )
    onnx_model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="chainrule",
        producer_version=__version__,
        ir_version=8,
    )
    metadata = {"task": spec.task, "activations": json.dumps(net.activations)}
    if spec.classes is not None:
        metadata["classes"] = json.dumps(spec.classes)
    if spec.feature_names is not None:  # the model file's names: which column goes where
        metadata["feature_names"] = json.dumps(spec.feature_names)
    helper.set_model_props(onnx_model, metadata)
    onnx.checker.check_model(onnx_model, full_check=True)
    return onnx_model


def _refuse_overwriting_the_model(model: Any, path: PathLike) -> None:
    """A model file exported onto itself would be replaced by the ONNX graph: the weights, the
    training history and everything else the ONNX file does not hold would be lost."""
    if not isinstance(model, str | os.PathLike) or not os.path.exists(path):
        return
    try:
        same = os.path.samefile(model, path)
    except OSError:  # the model file is missing: loading it says so
        return
    if same:
        raise ValidationError(
            f"the output {os.fspath(path)!r} is the model file itself; writing the ONNX graph "
            "there would destroy the model: give another output path (e.g. model.onnx)"
        )


def export_onnx(
    model: Any, path: PathLike, *, standardizer: Standardizer | None = None
) -> onnx.ModelProto:
    """Write ``model`` to ``path`` as an ONNX file (opset 17, input ``"input"`` ``(N, n_in)``).

    The graph computes in the network's dtype: float32 (the default), or float64 for a float64
    network, whose graph then takes and gives float64 and agrees with it to float64 rounding.

    Parameters
    ----------
    model:
        A :class:`~chainrule.engine.network.Network`, a fitted chainrule estimator
        (:class:`~chainrule.estimators.MLPClassifier` / ``MLPRegressor``, alone or as the last
        step of a ``Pipeline`` after a ``StandardScaler``, which becomes Sub/Div nodes), a
        :class:`~chainrule.fit.FittedModel` or the path of a model file (its standardisation and
        class labels come along).
    path:
        The ``.onnx`` file; written to a temporary name and renamed.
    standardizer:
        A fitted :class:`~chainrule.datasets.Standardizer` (or scikit-learn ``StandardScaler``)
        to put in front of a network or an estimator (a model file brings its own).

    Returns
    -------
    onnx.ModelProto
        The model written. Its output is ``"probabilities"`` ``(N, n_classes)`` for a classifier
        (or a network with a softmax or sigmoid output whose loss is not ``mse``) and
        ``"values"`` ``(N, n_outputs)`` otherwise; metadata ``task``, ``activations``,
        ``classes`` and ``feature_names`` (the input's columns in order, from a model file or an
        estimator fitted on a DataFrame), JSON.

    Raises
    ------
    ValidationError
        For a ``path`` that is no file path (``None``), a model that is not one of those, a
        classifier whose output layer gives no probabilities, a standardisation whose width is
        not the network's, weights or statistics that the graph's dtype cannot hold (NaN,
        infinite, beyond +-3.4e38 in a float32 graph), or an activation that is not a registered
        one (a subclass of ``ReLU`` named ``'relu'`` would be exported as ``Relu``).
    ModelFileError
        If the model file is not a valid chainrule model, or ``path`` cannot be written.
    """
    where = file_path(path)  # None refused before the work
    _refuse_overwriting_the_model(model, where)
    onnx_model = build_onnx(model, standardizer=standardizer)
    atomic_write(where, [onnx_model.SerializeToString()])
    return onnx_model

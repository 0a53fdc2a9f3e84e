"""A multi-layer network: layers ``l = 1..L`` applied in order, trained by back-propagation.

Forward propagation (lecture): ``h^(0) = x``; for each layer ``e^(l) = W^(l) [h^(l-1); 1]`` and
``h^(l) = g^(l)(e^(l))``; the output ``h^(L)`` is, for a softmax output, ``P(Y = k | x)``.

Back-propagation starts from the loss at the output and applies each layer's chain rule from
``L`` down to 1, leaving ``dL/dW^(l)`` in every layer.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from chainrule.engine.activations import Activation, get_activation
from chainrule.engine.init import Initializer, Seed, as_generator, default_initializer
from chainrule.engine.init import get_initializer as _get_initializer
from chainrule.engine.layers import Dense
from chainrule.engine.losses import Loss, default_loss, get_loss
from chainrule.engine.metrics import class_indices, is_real, require_finite
from chainrule.errors import ValidationError

Array = NDArray[np.floating]

_DTYPES = {"float32": np.float32, "float64": np.float64}


def _as_dtype(dtype: DTypeLike) -> np.dtype[np.floating]:
    try:
        resolved = np.dtype(dtype)
    except TypeError as err:
        raise ValidationError(f"dtype must be 'float32' or 'float64'; got {dtype!r}") from err
    if resolved.name not in _DTYPES:
        raise ValidationError(f"dtype must be 'float32' or 'float64'; got {resolved.name!r}")
    return resolved  # type: ignore[return-value]


_CROSS_ENTROPIES = ("cross_entropy", "binary_cross_entropy")

_NOT_PROBABILITIES = {
    "identity": "any real number",
    "relu": "values in [0, inf)",
    "leaky_relu": "any real number",
    "tanh": "values in (-1, 1)",
}
"""Output activations whose ``h`` is no probability. A cross-entropy on them is no loss at all:
``-ln h_y`` of ``h_y > 1`` is negative and falls without bound as ``h_y`` grows (relu; tanh stops
at 0 with nothing learnt), and ``h_y <= 0`` is clipped to ``ln tiny``, a flat value whose
gradient ``-1 / h_y`` is not its derivative (finite differences disagree, training overflows).
``torch.nn.CrossEntropyLoss`` would apply ``log_softmax`` to these outputs; this loss does not,
so it refuses them instead of training on nonsense."""


def _weight_matrix(l: int, W: ArrayLike, dtype: np.dtype[np.floating]) -> Array:
    """``W^(l)`` as a new array of ``dtype``, or a :class:`ValidationError` naming the first entry
    that is not a finite number there (``1e39`` overflows float32 to ``inf``)."""
    try:
        if np.iscomplexobj(W):  # the cast would silently drop .imag
            raise TypeError("it holds complex numbers")
        # inf is refused below, by position; a float64 below float32's range is 0, not an error
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            matrix = np.array(W, dtype=dtype, copy=True)
    except (TypeError, ValueError) as err:
        raise ValidationError(f"W^({l}) is not a numeric matrix: {err}") from None
    require_finite(f"W^({l})", matrix, W)
    return matrix


_ONE_NAME_PER_LAYER = "names, one per layer, such as ['tanh', 'softmax']"


def _listed(name: str, given: Any, what: str) -> list[Any]:
    """``given`` as a list, or a :class:`ValidationError` naming ``name``: a string would be
    split into letters (``activations="tanh"`` read as four activations 't', 'a', 'n', 'h'), and
    one matrix into its rows (``weights=W`` for ``[W]``)."""
    one_matrix = name == "weights" and isinstance(given, np.ndarray) and given.ndim <= 2
    if isinstance(given, str | bytes) or one_matrix:
        shown = f"one array of shape {given.shape}" if one_matrix else repr(given)
        raise ValidationError(f"{name} must be a list of {what}; got {shown}")
    try:
        return list(given)
    except TypeError:
        raise ValidationError(f"{name} must be a list of {what}; got {given!r}") from None


def _refuse_objects(name: str, array: NDArray[Any]) -> None:
    """Refuse an array of objects with what to do: name its first entry that is no real number
    (pandas' ``pd.NA``, ``None``, a string) by row and column, or, when all are numbers (pandas'
    nullable ``Float64``/``Int64`` columns arrive so), say how to convert it. numpy's dtype
    ``object`` alone named neither the missing value nor the fix."""
    if array.dtype != object:
        return
    for at, value in np.ndenumerate(array):
        if not isinstance(value, numbers.Real | np.bool_):
            where = ", ".join(f"{axis} {i}" for axis, i in zip(("row", "column"), at, strict=False))
            raise ValidationError(
                f"{name} must hold real numbers; got {value!r} ({type(value).__name__})"
                f"{f' at {where}' if where else ''}: fill or drop missing values and encode text "
                "as numbers first"
            )
    raise ValidationError(
        f"{name} must hold real numbers; got an array of dtype object (numbers held as Python "
        f"objects, as pandas' nullable columns are): convert it first, e.g. "
        f"np.asarray({name}, dtype=float) or DataFrame.to_numpy(dtype=float)"
    )


def _initial_matrix(l: int, W: Any, shape: tuple[int, int], dtype: np.dtype[np.floating]) -> Array:
    """An initialiser's ``W^(l)``, checked: of ``shape`` ``(n_out, n_in + 1)``, finite, in the
    network's ``dtype`` (copied only when it is not). A callable returning ``(n_in, n_out)``
    built a network of other widths without a word; int weights an int network."""
    if isinstance(W, np.ndarray) and W.dtype == dtype:
        matrix: Array = W
        require_finite(f"W^({l})", matrix, W)
    else:
        matrix = _weight_matrix(l, W, dtype)
    if matrix.shape != shape:
        raise ValidationError(
            f"the initializer returned W^({l}) of shape {matrix.shape}; expected {shape}, "
            "(n_out, n_in + 1) with the bias in the last column"
        )
    return matrix


class Network:
    """A multi-layer perceptron in the lecture's notation.

    Parameters
    ----------
    sizes:
        ``[n_inputs, n_hidden_1, ..., n_outputs]``: ``L + 1`` layer widths for ``L`` layers.
    activations:
        ``L`` names (or :class:`~chainrule.engine.activations.Activation` objects), one per layer,
        e.g. ``["tanh", "softmax"]``.
    init:
        ``"auto"`` (He for ReLU layers, Glorot otherwise), ``"glorot"``, ``"he"``, ``"small"`` or a
        callable ``(n_in, n_out, rng, dtype) -> W``.
    seed:
        An int or a ``np.random.Generator``: the same seed gives bit-identical weights.
    dtype:
        ``"float32"`` (default) or ``"float64"``.
    loss:
        The loss trained with by default; ``None`` picks the one paired with the output activation
        (softmax: cross-entropy, sigmoid: binary cross-entropy, identity: MSE).

    Examples
    --------
    >>> net = Network([2, 16, 2], activations=["tanh", "softmax"], seed=0)
    >>> [W.shape for W in net.weights]
    [(16, 3), (2, 17)]
    >>> net.forward([[0.0, 1.0]]).sum().round(6)
    np.float32(1.0)
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activations: Sequence[str | Activation],
        *,
        init: str | Initializer = "auto",
        seed: Seed = None,
        dtype: DTypeLike = np.float32,
        loss: str | Loss | None = None,
    ) -> None:
        sizes = _listed("sizes", sizes, "layer widths such as [2, 16, 2]")
        activations = _listed("activations", activations, _ONE_NAME_PER_LAYER)
        if len(sizes) < 2:
            raise ValidationError(
                f"sizes must list at least the input and output widths; got {sizes}"
            )
        for i, size in enumerate(sizes):
            if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
                raise ValidationError(f"sizes[{i}] must be an integer >= 1; got {size!r}")
        if len(activations) != len(sizes) - 1:
            raise ValidationError(
                f"need one activation per layer: {len(sizes) - 1} layers from sizes {sizes}, "
                f"got {len(activations)} activations"
            )
        resolved = _as_dtype(dtype)
        rng = as_generator(seed)
        weights = []
        layers = zip(sizes[:-1], sizes[1:], activations, strict=True)
        for l, (n_in, n_out, activation) in enumerate(layers, start=1):
            name = get_activation(activation).name
            initializer = _get_initializer(default_initializer(name) if init == "auto" else init)
            try:
                W = initializer(int(n_in), int(n_out), rng, resolved)
            except MemoryError:  # e.g. sizes [2, 10**12, 2]: refused at once, not a traceback
                raise ValidationError(
                    f"W^({l}) would hold {int(n_out) * (int(n_in) + 1):,} weights "
                    f"({n_in} inputs -> {n_out} units), more than this machine can allocate"
                ) from None
            weights.append(_initial_matrix(l, W, (int(n_out), int(n_in) + 1), resolved))
        self._build(weights, activations, loss)

    @classmethod
    def from_weights(
        cls,
        weights: Sequence[ArrayLike],
        activations: Sequence[str | Activation],
        *,
        dtype: DTypeLike | None = None,
        loss: str | Loss | None = None,
    ) -> Network:
        """Build a network from explicit matrices ``W^(l)`` of shape ``(n_out, n_in + 1)``.

        The weights are copied. ``dtype`` defaults to that of the first matrix when it is float32 or
        float64, else float64.

        >>> net = Network.from_weights([[[1.0, 1.0, -0.5]]], activations=["step"])
        >>> net.forward([[0, 0], [0, 1]]).ravel().tolist()  # OR = u(x1 + x2 - 0.5)
        [0.0, 1.0]
        """
        weights = _listed("weights", weights, "matrices [W^(1), ..., W^(L)]")
        if not weights:
            raise ValidationError("weights must hold at least one matrix W^(1)")
        if dtype is None:
            try:  # numpy's view of any array-like (a torch tensor, a DataFrame, nested lists)
                first: np.dtype[Any] | None = np.asarray(weights[0]).dtype
            except (TypeError, ValueError):  # ragged rows: refused below, by layer
                first = None
            dtype = first if first is not None and first.name in _DTYPES else np.float64
        resolved = _as_dtype(dtype)
        matrices: list[Array] = []
        for l, W in enumerate(weights, start=1):
            matrix = _weight_matrix(l, W, resolved)
            if matrix.ndim != 2 or matrix.shape[1] < 2:
                raise ValidationError(
                    f"W^({l}) must have shape (n_out, n_in + 1) with n_in >= 1; "
                    f"got shape {matrix.shape}"
                )
            if matrices and matrix.shape[1] != matrices[-1].shape[0] + 1:
                raise ValidationError(
                    f"W^({l}) has {matrix.shape[1]} columns but layer {l - 1} has "
                    f"{matrices[-1].shape[0]} outputs: expected {matrices[-1].shape[0] + 1} "
                    "columns (one per input plus the bias column)"
                )
            matrices.append(matrix)
        activations = _listed("activations", activations, _ONE_NAME_PER_LAYER)
        if len(activations) != len(matrices):
            raise ValidationError(
                f"need one activation per layer: {len(matrices)} weight matrices, "
                f"got {len(activations)} activations"
            )
        net = cls.__new__(cls)
        net._build(matrices, activations, loss)
        return net

    def _build(
        self, weights: list[Array], activations: Sequence[str | Activation], loss: str | Loss | None
    ) -> None:
        self.layers = [Dense(W, a) for W, a in zip(weights, activations, strict=True)]
        try:
            self._pack()
        except MemoryError:  # the vectors hold a second copy while the layers' arrays are moved
            total = sum(layer.W.size for layer in self.layers)
            raise ValidationError(
                f"the network's {total:,} weights ({total * self.layers[0].W.itemsize:,} bytes) "
                "do not fit in memory twice, as laying them out in one vector needs"
            ) from None
        output = self.layers[-1].activation.name
        if loss is None:
            try:
                loss = default_loss(output)
            except ValidationError:
                loss = None  # e.g. a hand-wired step network: usable, not trainable
        self.loss: Loss | None = get_loss(loss) if loss is not None else None

    # -- structure -------------------------------------------------------------------------

    @property
    def weights(self) -> list[Array]:
        """The live matrices ``W^(1) .. W^(L)``, each ``(n_out, n_in + 1)``; last column = bias."""
        return [layer.W for layer in self.layers]

    @property
    def gradients(self) -> list[Array]:
        """The live ``dL/dW^(l)`` from the last backward pass (reused buffers, not copies)."""
        return [layer.dL_dW for layer in self.layers]

    def _pack(self) -> None:
        """Lay every ``W^(l)`` end to end in one vector, and every ``dL/dW^(l)`` in another.

        The layers then compute with views of these vectors, and an optimizer updates all the
        weights with one numpy call per formula instead of one per layer: on a small network the
        calls, not the arithmetic, are what a step costs (Adam makes twelve per array).
        """
        dtype = self.layers[0].W.dtype
        total = sum(layer.W.size for layer in self.layers)
        self._weight_vector: Array = np.empty(total, dtype=dtype)
        self._gradient_vector: Array = np.zeros(total, dtype=dtype)
        start = 0
        for layer in self.layers:
            n_out, columns = layer.W.shape
            stop = start + layer.W.size
            # A column-major (n_out, n_in + 1) view of the slice: each layer's W keeps its layout.
            W = self._weight_vector[start:stop].reshape(columns, n_out).T
            dL_dW = self._gradient_vector[start:stop].reshape(columns, n_out).T
            np.copyto(W, layer.W)
            np.copyto(dL_dW, layer.dL_dW)  # a backward pass's gradients survive a new layout
            layer.store_in(W, dL_dW)
            start = stop
        self._packed = [layer.W for layer in self.layers]

    @property
    def weight_vector(self) -> Array:
        """Every weight, ``W^(1)`` to ``W^(L)`` end to end (each column by column): the layers'
        ``W`` are views of it, so updating it in place updates the network."""
        self._repack_if_replaced()
        return self._weight_vector

    @property
    def gradient_vector(self) -> Array:
        """``dL/dW`` of the last backward pass, laid out as :attr:`weight_vector`."""
        self._repack_if_replaced()
        return self._gradient_vector

    def _repack_if_replaced(self) -> None:
        # A plain loop: the training loop asks for both vectors on every step.
        for layer, W in zip(self.layers, self._packed):  # noqa: B905  (same length by design)
            if layer.W is not W:
                self._pack()  # a layer was given a new W: lay the weights out again
                return

    @property
    def sizes(self) -> list[int]:
        """``[n_inputs, n_1, ..., n_outputs]``."""
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    @property
    def activations(self) -> list[str]:
        """The activation name of each layer ``1..L``."""
        return [layer.activation.name for layer in self.layers]

    @property
    def activation_functions(self) -> list[Activation]:
        """The :class:`~chainrule.engine.activations.Activation` of each layer ``1..L``, with its
        parameters (a leaky ReLU's slope), which the names of :attr:`activations` leave out."""
        return [layer.activation for layer in self.layers]

    @property
    def dtype(self) -> np.dtype[np.floating]:
        """The floating-point type of the weights and every computation."""
        return self.layers[0].W.dtype

    @property
    def predicts_values(self) -> bool:
        """Whether the network was built for regression (its loss is ``mse``): its outputs are
        values whatever the output activation, a sigmoid's included (see :meth:`predict`)."""
        return self.loss is not None and self.loss.name == "mse"

    @property
    def n_parameters(self) -> int:
        """Total number of weights, bias columns included."""
        return sum(W.size for W in self.weights)

    def set_weights(self, weights: Sequence[ArrayLike]) -> None:
        """Copy ``weights`` into the network's matrices (shapes must match).

        Every matrix is checked, in the network's dtype, before any is copied, so a refused call
        leaves the network as it was.

        Raises
        ------
        ValidationError
            For a count or shape that does not match, or a value that is not a finite number in
            the network's dtype (``nan``, or ``1e39`` in float32), named by ``W^(l)``, row and
            column: weights like that would make training "diverge" at its first step.
        """
        weights = _listed("weights", weights, "matrices [W^(1), ..., W^(L)]")
        if len(weights) != len(self.layers):
            raise ValidationError(f"expected {len(self.layers)} matrices; got {len(weights)}")
        checked = []
        for l, (layer, W) in enumerate(zip(self.layers, weights, strict=True), start=1):
            source = _weight_matrix(l, W, self.dtype)
            if source.shape != layer.W.shape:
                raise ValidationError(
                    f"W^({l}) must have shape {layer.W.shape}; got {source.shape}"
                )
            checked.append(source)
        for layer, source in zip(self.layers, checked, strict=True):
            np.copyto(layer.W, source)

    def copy(self) -> Network:
        """An independent network with copies of the weights."""
        return Network.from_weights(
            self.weights, self.activation_functions, dtype=self.dtype, loss=self.loss
        )

    def __getstate__(self) -> dict[str, Any]:
        """A copy or a pickle keeps the layers; :meth:`__setstate__` lays out their weight vector
        again (copied separately, the vector would no longer be what the layers view)."""
        state = self.__dict__.copy()
        for derived in ("_weight_vector", "_gradient_vector", "_packed"):
            state.pop(derived, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._pack()

    def __repr__(self) -> str:
        layers = ", ".join(f"{layer.n_out} {layer.activation.name}" for layer in self.layers)
        return f"Network({self.sizes[0]} inputs -> {layers}; {self.dtype.name})"

    # -- validation at the boundary ------------------------------------------------------

    def check_inputs(self, X: ArrayLike, name: str = "X") -> Array:
        """Return ``X`` as a C-contiguous ``(n, n_inputs)`` array of the network's dtype.

        Raises :class:`ValidationError` naming the problem (dimensions, feature count,
        non-numeric or non-finite values). The caller's array is never modified.
        """
        try:
            array = np.asarray(X)
        except (TypeError, ValueError) as err:  # ragged nested lists
            raise ValidationError(f"{name} is not a rectangular numeric array: {err}") from None
        _refuse_objects(name, array)
        if not is_real(array.dtype):
            raise ValidationError(
                f"{name} must hold real numbers; got an array of dtype {array.dtype.name}"
            )
        if array.ndim == 1 and self.sizes[0] == array.shape[0]:
            array = array[None, :]  # one token given as a vector
        if array.ndim != 2:
            raise ValidationError(
                f"{name} must be 2-D (n_samples, {self.sizes[0]}); got shape {array.shape}"
            )
        if array.shape[1] != self.sizes[0]:
            raise ValidationError(
                f"{name} has {array.shape[1]} features but the network expects {self.sizes[0]}"
            )
        if array.shape[0] == 0:
            raise ValidationError(f"{name} has no rows (shape {array.shape})")
        # overflow and NaN are refused below, by position; 1e-320 in float32 is 0, not an error
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            converted = np.ascontiguousarray(array, dtype=self.dtype)
        require_finite(name, converted, array)
        return converted

    def check_targets(self, y: ArrayLike, n: int, loss: Loss) -> NDArray[Any]:
        """Return targets ``y`` in the form ``loss`` needs for ``n`` tokens, or raise."""
        try:
            array = np.asarray(y)
        except (TypeError, ValueError) as err:
            raise ValidationError(f"y is not a rectangular array: {err}") from None
        n_out = self.sizes[-1]
        if array.ndim == 0:
            if n != 1:
                raise ValidationError(
                    f"y is a single value ({array.item()!r}) but X has {n} rows: give one "
                    "target per row"
                )
            array = array.reshape(1)  # one token's target, as x may be one token's vector
        if array.shape[:1] != (n,):
            rows = len(array) if array.ndim else 0
            raise ValidationError(f"y has {rows} row{'' if rows == 1 else 's'}; X has {n}")
        if loss.name == "cross_entropy":
            if array.ndim != 1:
                raise ValidationError(
                    f"cross_entropy needs y as class indices of shape ({n},); got {array.shape}"
                )
            return class_indices("y", array, n_out, f" (the output layer has {n_out} units)")
        _refuse_objects("y", array)
        if not is_real(array.dtype):
            raise ValidationError(f"y must hold real numbers; got dtype {array.dtype.name}")
        # 1e308 -> inf, refused below; 1e-320 -> 0 in float32, as exact as float32 can be
        with np.errstate(over="ignore", invalid="ignore", under="ignore"):
            values = array.astype(self.dtype).reshape(n, -1)
        if values.shape[1] != n_out:
            columns = values.shape[1]
            raise ValidationError(
                f"y has {columns} column{'' if columns == 1 else 's'} but the output layer has "
                f"{n_out} unit{'' if n_out == 1 else 's'}"
            )
        require_finite("y", values, array)
        if loss.name == "binary_cross_entropy":
            outside = (values < 0) | (values > 1)
            if outside.any():
                row, column = np.argwhere(outside)[0]
                raise ValidationError(
                    "binary_cross_entropy needs targets in [0, 1] (the probability of each "
                    f"label); y has {values[row, column].item()!r} at row {row}, column {column}"
                )
        return values

    def _resolve_loss(self, loss: str | Loss | None) -> Loss:
        """The loss to compute with: ``loss``, else the network's.

        Raises
        ------
        ValidationError
            When there is none, or when a cross-entropy meets an output that is no probability
            (see :data:`_NOT_PROBABILITIES`).
        """
        if loss is not None:
            resolved = get_loss(loss)
        elif self.loss is None:
            raise ValidationError(
                f"no loss pairs with the output activation {self.activations[-1]!r}; "
                "pass loss= (cross_entropy, binary_cross_entropy or mse)"
            )
        else:
            resolved = self.loss
        output = self.activations[-1]
        if resolved.name in _CROSS_ENTROPIES and output in _NOT_PROBABILITIES:
            raise ValidationError(
                f"{resolved.name} needs outputs h^(L) that are probabilities in (0, 1), "
                f"-ln h_y; the output activation {output!r} gives {_NOT_PROBABILITIES[output]}. "
                "Use a softmax output (classes) or sigmoid (labels), or the loss 'mse'"
            )
        return resolved

    # -- the computation -----------------------------------------------------------------

    def propagate(self, h0: Array, *, augmented: bool = False) -> Array:
        """Forward-propagate a checked batch; returns ``h^(L)`` (a reused buffer, not a copy).

        ``augmented=True``: ``h0`` carries the constant 1 as its last column (a trainer's copy of
        the data does); every later layer's input is the previous layer's ``h_augmented``.
        """
        h_prev = h0
        for l, layer in enumerate(self.layers):
            h = layer.forward(h_prev, augmented=augmented or l > 0)
            assert layer.h_augmented is not None
            h_prev = layer.h_augmented  # [h^(l), 1]: the next layer's input, with its constant 1
        return h

    def back_propagate(
        self, y: NDArray[Any], loss: Loss, *, learning_rate: float | None = None
    ) -> None:
        """Back-propagate from the loss at the output, leaving ``dL/dW^(l)`` in every layer.

        Must follow :meth:`propagate` on the same batch. At the output, a loss paired with the
        output activation gives ``dL/de^(L)`` directly (softmax + cross-entropy:
        ``softmax(e) - onehot(y)``); otherwise the loss gives ``dL/dh^(L)`` and the layer applies
        ``g'``.

        ``learning_rate`` ``eta``: each layer takes the step ``w <- w - eta dL/dw`` itself and
        keeps no ``dL/dW`` (see :meth:`Dense.backward`).
        """
        output = self.layers[-1]
        assert output.h is not None
        buffers = output.buffers_for(len(output.h))
        if loss.pairs_with == output.activation.name:
            dL_dh = output.backward(
                dL_de=loss.dL_de(output.h, y, out=buffers.dL_de),
                need_dL_dh_prev=len(self.layers) > 1,
                learning_rate=learning_rate,
            )
        else:
            dL_dh = output.backward(
                loss.dL_dh(output.h, y, out=buffers.dL_dh),
                need_dL_dh_prev=len(self.layers) > 1,
                learning_rate=learning_rate,
            )
        for l in range(len(self.layers) - 2, -1, -1):
            dL_dh = self.layers[l].backward(
                dL_dh, need_dL_dh_prev=l > 0, learning_rate=learning_rate
            )

    def output_loss(self, y: NDArray[Any], loss: Loss) -> float:
        """The loss of the last :meth:`propagate`: stably from ``e^(L)`` when ``loss`` pairs with
        the output activation, else from ``h^(L)``."""
        output = self.layers[-1]
        assert output.e is not None and output.h is not None
        if loss.pairs_with == output.activation.name:
            return loss.value_at_output(output.e, output.h, y)
        return loss.value(output.h, y)

    def infer(self, h0: Array) -> Array:
        """``h^(L)`` for a checked batch, in new arrays: the forward pass of prediction.

        Unlike :meth:`propagate` it keeps nothing in the layers, so several threads may predict
        with one network at once, and a large batch leaves no buffers behind.
        """
        h = h0
        for layer in self.layers:
            h = layer.infer(h)
        return h

    def forward(self, X: ArrayLike) -> Array:
        """Return ``h^(L)`` for the batch ``X`` of shape ``(n, n_inputs)`` (a new array).

        Safe to call from several threads at once (see :meth:`infer`).
        """
        with np.errstate(under="ignore"):  # exp(-large) -> 0 is the exact answer
            return self.infer(self.check_inputs(X))

    def loss_and_gradients(
        self, X: ArrayLike, y: ArrayLike, loss: str | Loss | None = None
    ) -> tuple[float, list[Array]]:
        """Forward, then back-propagate: return ``(L, [dL/dW^(1), ..., dL/dW^(L)])``.

        ``L`` is the mean loss over the batch; each gradient is a new array shaped like its
        ``W^(l)``. ``loss`` defaults to the network's (see the constructor).
        """
        loss_fn = self._resolve_loss(loss)
        h0 = self.check_inputs(X)
        targets = self.check_targets(y, len(h0), loss_fn)
        with np.errstate(under="ignore"):
            self.propagate(h0)
            value = self.output_loss(targets, loss_fn)
            self.back_propagate(targets, loss_fn)
        return value, [g.copy() for g in self.gradients]

    def predict_proba(self, X: ArrayLike) -> Array:
        """Class probabilities ``P(Y = k | x)``, shape ``(n, n_classes)``.

        A softmax output gives ``h^(L)``; a single sigmoid unit gives ``[1 - h, h]``; several
        sigmoid units give each label's probability.
        """
        output = self.activations[-1]
        if output not in ("softmax", "sigmoid"):
            raise ValidationError(
                f"predict_proba needs a softmax or sigmoid output layer; this one is {output!r}"
            )
        h = self.forward(X)
        if output == "sigmoid" and h.shape[1] == 1:
            return np.hstack([1 - h, h])
        return h

    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Predictions: the most probable class (softmax), a 0/1 decision (sigmoid, step) or the
        output values themselves (any other output, e.g. identity for regression, and any
        output of a network whose loss is ``mse``: a sigmoid then predicts values in (0, 1)).

        Single-output networks return shape ``(n,)``.
        """
        h = self.forward(X)
        output = self.activations[-1]
        if output == "softmax" and not self.predicts_values:
            classes: NDArray[np.intp] = np.argmax(h, axis=1)
            return classes
        if output in ("sigmoid", "step") and not self.predicts_values:
            decisions = (h > 0.5).astype(np.int64)
            return decisions.ravel() if h.shape[1] == 1 else decisions
        return h.ravel() if h.shape[1] == 1 else h

"""The playground's websocket protocol: every message from a page, validated field by field.

A page sends JSON objects ``{"type": <kind>, ...fields}``. :func:`parse_message` checks the size,
the JSON, the kind, that no field is missing or unknown, and each field's type and range, and
returns a plain ``dict`` of normalised values; anything else raises :class:`ProtocolError`,
which the server sends back as ``{"type": "error", "message": ...}`` while the session goes on.
The server's own messages (frames, traces, model files) are built in :mod:`chainrule.web.session`.

Limits are module constants so tests and the page agree on them; :class:`RateLimiter` caps the
message rate of one connection.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from chainrule.errors import ValidationError

MAX_MESSAGE_BYTES = 1_000_000
"""A text message larger than this is refused (with an error; the session continues)."""
MAX_POINTS = 5_000
"""Most data points one session holds (generated, clicked or uploaded)."""
MIN_POINTS = 4
MAX_HIDDEN_LAYERS = 6
MAX_NEURONS = 32
MIN_CLASSES, MAX_CLASSES = 2, 6
MAX_UPLOAD_BYTES = 512_000
"""Largest CSV text or model file (before base64) a page may upload."""
MAX_SESSIONS = 32
"""Concurrent websocket sessions per server."""
MESSAGES_PER_SECOND = 40.0
MESSAGE_BURST = 80
"""A connection may send ``MESSAGE_BURST`` messages at once, then ``MESSAGES_PER_SECOND``."""
FRAME_DRAWN = '{"type":"drawn"}'
"""What a page sends each time it has drawn a frame: flow control, like a websocket pong, so
not one of :data:`MESSAGES` and not rate-limited (one fixed text, answered by a counter). Once
a page sends it, the session keeps at most :data:`FRAMES_IN_FLIGHT` frames undrawn: a browser
reads its websocket eagerly, so frames a slow page cannot draw would otherwise pile up in it
(seconds behind, a pause shown seconds late)."""
FRAMES_IN_FLIGHT = 2
FRAME_DRAWN_WAIT_S = 1.0
"""A session that waited this long for a drawn frame sends the next one anyway."""
COORDINATE_LIMIT = 1e3
"""Point coordinates must lie in ``[-COORDINATE_LIMIT, COORDINATE_LIMIT]``."""

DATASETS = ("xor", "circle", "gaussian", "spiral", "moons")
HIDDEN_ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "step")
OUTPUTS = ("softmax", "step")
OPTIMIZERS = ("sgd", "momentum", "adam")


class ProtocolError(ValidationError):
    """A message from the page is malformed or breaks a limit; the text goes back to the page."""


Validator = Callable[[Any, str], Any]


def _shown(value: Any) -> str:
    """The start of ``value`` as JSON, for an error message."""
    try:
        return json.dumps(value)[:40]
    except RecursionError:  # nested almost as deeply as the decoder allows
        return "a value nested too deeply to show"


def _number(low: float, high: float) -> Validator:
    def check(value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ProtocolError(f"{where} must be a number; got {_shown(value)}")
        if not low <= value <= high:  # exact for ints of any size; false for NaN
            raise ProtocolError(f"{where} must be between {low:g} and {high:g}; got {value!r}")
        return float(value)

    return check


def _integer(low: int, high: int) -> Validator:
    def check(value: Any, where: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProtocolError(f"{where} must be an integer; got {_shown(value)}")
        if not low <= value <= high:
            raise ProtocolError(f"{where} must be between {low} and {high}; got {value}")
        return value

    return check


def _choice(*options: str) -> Validator:
    def check(value: Any, where: str) -> str:
        if value not in options:
            raise ProtocolError(f"{where} must be one of {', '.join(options)}; got {_shown(value)}")
        return str(value)

    return check


def _boolean(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise ProtocolError(f"{where} must be true or false; got {_shown(value)}")
    return value


def _text(max_length: int) -> Validator:
    def check(value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise ProtocolError(f"{where} must be a string; got {_shown(value)}")
        if len(value) > max_length:
            raise ProtocolError(
                f"{where} is too long: {len(value):,} characters, the limit is {max_length:,}"
            )
        try:  # JSON's "\ud800" escapes decode to lone surrogates, which no file can hold
            value.encode("utf-8")
        except UnicodeEncodeError as err:
            raise ProtocolError(
                f"{where} is not valid Unicode text: character {err.start + 1:,} is a lone "
                f"surrogate {value[err.start]!r}"
            ) from None
        return value

    return check


def _list(item: Validator, min_length: int, max_length: int, what: str = "items") -> Validator:
    def check(value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise ProtocolError(f"{where} must be a list; got {_shown(value)}")
        if not min_length <= len(value) <= max_length:
            raise ProtocolError(
                f"{where} must hold {min_length} to {max_length:,} {what}; got {len(value):,}"
            )
        return [item(v, f"{where}[{i}]") for i, v in enumerate(value)]

    return check


def _object(spec: Mapping[str, Validator]) -> Validator:
    def check(value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ProtocolError(f"{where} must be an object; got {_shown(value)}")
        unknown = sorted(set(value) - set(spec))
        if unknown:
            raise ProtocolError(f"{where} has unknown field {unknown[0]!r}")
        missing = [name for name in spec if name not in value]
        if missing:
            raise ProtocolError(f"{where} is missing the field {missing[0]!r}")
        return {name: validate(value[name], f"{where}.{name}") for name, validate in spec.items()}

    return check


_coordinate = _number(-COORDINATE_LIMIT, COORDINATE_LIMIT)
_label = _integer(0, MAX_CLASSES - 1)
_point = _list(_coordinate, 2, 2, "coordinates")


def _labelled_point(value: Any, where: str) -> tuple[float, float, int]:
    if not isinstance(value, list) or len(value) != 3:
        raise ProtocolError(f"{where} must be [x1, x2, label]; got {_shown(value)}")
    return (
        _coordinate(value[0], f"{where}[0]"),
        _coordinate(value[1], f"{where}[1]"),
        _label(value[2], f"{where}[2]"),
    )


_weight = _number(-1e6, 1e6)
_rows = _list(_list(_weight, 2, MAX_NEURONS + 1, "weights"), 1, MAX_NEURONS, "rows")


def _matrix(value: Any, where: str) -> list[list[float]]:
    """A weight matrix: rows of weights, every row as long as the first (numpy cannot make an
    array of ragged rows)."""
    rows: list[list[float]] = _rows(value, where)
    for i, row in enumerate(rows):
        if len(row) != len(rows[0]):
            raise ProtocolError(
                f"{where} must have rows of equal length: row 0 has {len(rows[0])} weights, "
                f"row {i} has {len(row)}"
            )
    return rows


LAYER = _object({"units": _integer(1, MAX_NEURONS), "activation": _choice(*HIDDEN_ACTIVATIONS)})
SETTINGS = _object(
    {
        "dataset": _choice(*DATASETS),
        "n_points": _integer(MIN_POINTS, MAX_POINTS),
        "noise": _number(0.0, 1.0),
        "n_classes": _integer(MIN_CLASSES, MAX_CLASSES),
        "train_ratio": _number(0.1, 1.0),
        "hidden": _list(LAYER, 0, MAX_HIDDEN_LAYERS, "hidden layers"),
        "output": _choice(*OUTPUTS),
        "optimizer": _choice(*OPTIMIZERS),
        "learning_rate": _number(1e-6, 10.0),
        "batch_size": _integer(1, MAX_POINTS),
        "l2": _number(0.0, 1.0),
        "seed": _integer(0, 2**31 - 1),
        "speed": _integer(1, 100),
    }
)
"""Everything that defines a run; the page keeps the same object in its URL."""

MESSAGES: dict[str, Mapping[str, Validator]] = {
    "config": {"settings": SETTINGS},
    "play": {},
    "pause": {},
    "reset": {},
    "step": {"unit": _choice("minibatch", "epoch")},
    "add_point": {"x": _point, "label": _label},
    "remove_point": {"x": _point, "radius": _number(0.0, 10.0)},
    "points": {"points": _list(_labelled_point, MIN_POINTS, MAX_POINTS, "points")},
    "restore_data": {
        "train": _list(_labelled_point, 1, MAX_POINTS, "points"),
        "test": _list(_labelled_point, 0, MAX_POINTS, "points"),
        "classes": _list(_text(200), MIN_CLASSES, MAX_CLASSES, "class names"),
    },
    "upload_csv": {"name": _text(200), "text": _text(MAX_UPLOAD_BYTES)},
    "explain": {"subset": _choice("train", "test"), "index": _integer(0, MAX_POINTS - 1)},
    "export": {},
    "import_model": {"name": _text(200), "data": _text(4 * (MAX_UPLOAD_BYTES // 3 + 1))},
    "set_weights": {"weights": _list(_matrix, 1, MAX_HIDDEN_LAYERS + 1, "matrices")},
    "predict": {"points": _list(_point, 1, MAX_POINTS, "points")},
    "view": {
        "layer": _integer(1, MAX_HIDDEN_LAYERS),
        "neurons": _list(_integer(0, MAX_NEURONS - 1), 2, 2, "neurons"),
        "maps": _boolean,
    },
}
"""Each message kind and the validators of its fields (besides ``type``)."""


def parse_message(text: str | bytes) -> dict[str, Any]:
    """Validate one message from the page; return its fields, normalised, with ``type``.

    Raises
    ------
    ProtocolError
        Too large, not JSON, not an object, an unknown ``type``, or a field that is missing,
        unknown, of the wrong type or out of range. The message names the field.

    Examples
    --------
    >>> parse_message('{"type": "step", "unit": "epoch"}')
    {'type': 'step', 'unit': 'epoch'}
    """
    if isinstance(text, bytes):
        raise ProtocolError("messages must be JSON text, not binary")
    if len(text) > MAX_MESSAGE_BYTES:
        raise ProtocolError(
            f"message too large: {len(text):,} characters, the limit is {MAX_MESSAGE_BYTES:,}"
        )
    try:
        message = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError, ProtocolError) as err:  # ValueError: > 4300 digits
        raise ProtocolError(f"message is not valid JSON: {err}") from None
    if not isinstance(message, dict):
        raise ProtocolError("message must be a JSON object with a 'type'")
    kind = message.pop("type", None)
    if not isinstance(kind, str) or kind not in MESSAGES:  # a list or object is unhashable
        raise ProtocolError(
            f"unknown message type {_shown(kind)}; expected one of {', '.join(sorted(MESSAGES))}"
        )
    fields: dict[str, Any] = _object(MESSAGES[kind])(message, kind)
    return {"type": kind, **fields}


def _reject_constant(token: str) -> None:
    raise ProtocolError(f"{token} is not a number JSON allows")


@dataclass
class RateLimiter:
    """A token bucket: ``burst`` messages at once, refilled at ``rate`` per second."""

    rate: float = MESSAGES_PER_SECOND
    burst: int = MESSAGE_BURST
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)
        self._last = self.clock()

    def allow(self) -> bool:
        """Spend one token if there is one; False means the message must be dropped."""
        now = self.clock()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

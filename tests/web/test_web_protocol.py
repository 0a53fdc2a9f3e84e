"""The playground protocol: every message validated, limits enforced, rate limited."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chainrule.errors import ValidationError
from chainrule.web import protocol
from chainrule.web.protocol import ProtocolError, RateLimiter, parse_message
from chainrule.web.session import DEFAULT_SETTINGS


def config(**changes: Any) -> str:
    return json.dumps({"type": "config", "settings": {**DEFAULT_SETTINGS, **changes}})


def test_valid_messages_come_back_normalised() -> None:
    assert parse_message('{"type": "step", "unit": "epoch"}') == {"type": "step", "unit": "epoch"}
    assert parse_message(config())["settings"] == DEFAULT_SETTINGS
    point = parse_message('{"type": "add_point", "x": [0.5, -1], "label": 1}')
    assert point == {"type": "add_point", "x": [0.5, -1.0], "label": 1}
    assert isinstance(point["x"][1], float)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"unit": "epoch"}', "unknown message type"),
        ('{"type": "fly"}', "unknown message type"),
        ('{"type": "step"}', "missing the field 'unit'"),
        ('{"type": "step", "unit": "epoch", "extra": 1}', "unknown field 'extra'"),
        ('{"type": "step", "unit": "year"}', "step.unit must be one of minibatch, epoch"),
        ('{"type": "add_point", "x": [0, NaN], "label": 0}', "NaN is not a number"),
        ('{"type": "add_point", "x": [0, 1e9], "label": 0}', "add_point.x[1] must be between"),
        ('{"type": "add_point", "x": [0, true], "label": 0}', "add_point.x[1] must be a number"),
        ('{"type": "add_point", "x": [0], "label": 0}', "2 to 2 coordinates"),
        ('{"type": "add_point", "x": [0, 0], "label": 6}', "label must be between 0 and 5"),
        ('{"type": "add_point", "x": [0, 0], "label": 1.5}', "label must be an integer"),
        ('{"type": "explain", "subset": "train", "index": -1}', "index must be between"),
        ('{"type": "view", "layer": 1, "neurons": [0, 1], "maps": "yes"}', "true or false"),
        ('{"type": "upload_csv", "name": 3, "text": ""}', "name must be a string"),
        (
            r'{"type": "upload_csv", "name": "a.csv", "text": "x1,x2,y\n0,0,\ud800"}',
            "upload_csv.text is not valid Unicode text: character 13 is a lone surrogate",
        ),
        (
            '{"type": "set_weights", "weights": [[[1, 2, 3], [4, 5]]]}',
            "set_weights.weights[0] must have rows of equal length: row 0 has 3 weights, "
            "row 1 has 2",
        ),
    ],
)
def test_malformed_messages_name_the_problem(text: str, expected: str) -> None:
    with pytest.raises(ProtocolError, match=expected.replace("[", r"\[").replace("]", r"\]")):
        parse_message(text)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"n_points": protocol.MAX_POINTS + 1}, "n_points must be between 4 and 5000"),
        ({"n_classes": 7}, "n_classes must be between 2 and 6"),
        (
            {"hidden": [{"units": 2, "activation": "tanh"}] * (protocol.MAX_HIDDEN_LAYERS + 1)},
            "hidden must hold 0 to 6 hidden layers; got 7",
        ),
        ({"hidden": [{"units": 33, "activation": "tanh"}]}, r"hidden\[0\].units must be between"),
        ({"hidden": [{"units": 3, "activation": "swish"}]}, r"hidden\[0\].activation must be"),
        ({"learning_rate": 0}, "learning_rate must be between"),
        ({"learning_rate": "0.1"}, "learning_rate must be a number"),
        ({"seed": -1}, "seed must be between 0 and"),
        ({"dataset": "mnist"}, "dataset must be one of"),
    ],
)
def test_settings_limits(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(ProtocolError, match=expected):
        parse_message(config(**changes))


def test_missing_and_unknown_settings_are_refused() -> None:
    settings = dict(DEFAULT_SETTINGS)
    del settings["seed"]
    with pytest.raises(ProtocolError, match="settings is missing the field 'seed'"):
        parse_message(json.dumps({"type": "config", "settings": settings}))
    with pytest.raises(ProtocolError, match="unknown field 'momentum'"):
        parse_message(config(momentum=0.9))


def test_size_limits() -> None:
    too_long = json.dumps({"type": "upload_csv", "name": "a.csv", "text": "x" * 600_000})
    with pytest.raises(ProtocolError, match="too long: 600,000 characters"):
        parse_message(too_long)
    with pytest.raises(ProtocolError, match="message too large"):
        parse_message(" " * (protocol.MAX_MESSAGE_BYTES + 1))
    points = [[0.0, 0.0, 0]] * (protocol.MAX_POINTS + 1)
    with pytest.raises(ProtocolError, match="4 to 5,000 points; got 5,001"):
        parse_message(json.dumps({"type": "points", "points": points}))
    with pytest.raises(ProtocolError, match="binary"):
        parse_message(b'{"type": "pause"}')


def test_protocol_error_is_a_chainrule_validation_error() -> None:
    assert issubclass(ProtocolError, ValidationError)


def test_rate_limiter_allows_a_burst_then_the_rate() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=10.0, burst=5, clock=lambda: now[0])
    assert [limiter.allow() for _ in range(6)] == [True] * 5 + [False]
    now[0] += 0.1  # one token back
    assert limiter.allow() is True
    assert limiter.allow() is False
    now[0] += 100.0  # refills only up to the burst
    assert sum(limiter.allow() for _ in range(10)) == 5

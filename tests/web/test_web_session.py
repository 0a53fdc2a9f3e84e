"""The playground's websocket sessions, in process (Starlette's TestClient), against the library.

Every number the page shows must be the library's: frames, traces and model files are checked
against chainrule's own Network, trace and load_model on the same weights.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from chainrule.datasets import load_csv
from chainrule.engine import Network, trace
from chainrule.engine.explain import to_dict
from chainrule.fit import FittedModel, TrainConfig, fit
from chainrule.serialization import load_model, save_model
from chainrule.web import session as session_module
from chainrule.web.app import create_app
from chainrule.web.protocol import FRAME_DRAWN, FRAMES_IN_FLIGHT, MAX_MESSAGE_BYTES
from chainrule.web.session import (
    DEFAULT_SETTINGS,
    GRID,
    MAP_STRIDE,
    STUCK_EPOCHS,
    PageClosed,
    Session,
)

ORIGIN = {"origin": "http://testserver"}


class Conversation:
    """One websocket: send messages, read replies until a given kind."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.errors: list[str] = []
        self.state = self.receive("state")
        self.frame = self.receive("frame")

    def send(self, kind: str, **fields: Any) -> None:
        self.ws.send_text(json.dumps({"type": kind, **fields}))

    def receive(self, kind: str) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = self.ws.receive_json()
            if message["type"] == "error":
                self.errors.append(message["message"])
                # a bug on the server: fail now rather than wait for a reply that never comes
                assert not message["message"].startswith("internal error"), message["message"]
            if message["type"] == "state":
                self.state = message
            if message["type"] == "frame":
                self.frame = message
            if message["type"] == kind:
                return message

    def request(self, kind: str, reply: str, **fields: Any) -> dict[str, Any]:
        """Send, then read up to the reply (a state is always followed by its frame)."""
        self.send(kind, **fields)
        message = self.receive(reply)
        if reply == "state":
            self.receive("frame")
        return message

    def config(self, **changes: Any) -> dict[str, Any]:
        settings = {**self.state["settings"], **changes}
        self.request("config", "state", settings=settings)
        return self.frame

    def step_epochs(self, n: int) -> dict[str, Any]:
        for _ in range(n):
            frame = self.request("step", "frame", unit="epoch")
        return frame


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(allowed_hosts=["testserver"])) as test_client:
        yield test_client


@pytest.fixture
def talk(client: TestClient) -> Iterator[Conversation]:
    with client.websocket_connect("/ws", headers=ORIGIN) as ws:
        yield Conversation(ws)


def floats(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<f4")


def exported_network(talk: Conversation, tmp_path: Path) -> tuple[Network, Path]:
    model = talk.request("export", "model")
    path = tmp_path / model["filename"]
    path.write_bytes(base64.b64decode(model["data"]))
    loaded = load_model(path)
    return Network.from_weights(loaded.weights, loaded.activations), path


def grid_points(extent: float) -> np.ndarray:
    axis = np.linspace(-extent, extent, GRID)
    x1, x2 = np.meshgrid(axis, axis[::-1])
    return np.column_stack([x1.ravel(), x2.ravel()])


def test_first_frame_describes_the_default_network(talk: Conversation) -> None:
    state, frame = talk.state, talk.frame
    assert state["settings"] == DEFAULT_SETTINGS
    sizes = [2, 8, 8, 2]
    assert state["sizes"] == sizes and state["trainable"] is True
    assert len(state["points"]["train"]) + len(state["points"]["test"]) == 200
    assert [w["shape"] for w in frame["weights"]] == [[8, 3], [8, 9], [2, 9]]
    assert len(base64.b64decode(frame["probabilities"])) == GRID * GRID * 2
    side = len(range(0, GRID, MAP_STRIDE))
    assert [len(base64.b64decode(m["data"])) for m in frame["maps"]] == [
        n * side * side for n in sizes[1:]
    ]
    assert frame["epoch"] == 0 and frame["train"]["accuracy"] is not None


def test_frames_are_the_library_network(talk: Conversation, tmp_path: Path) -> None:
    frame = talk.step_epochs(3)
    net, _ = exported_network(talk, tmp_path)
    for sent, W in zip(frame["weights"], net.weights, strict=True):
        np.testing.assert_array_equal(floats(sent["data"]).reshape(W.shape), W.astype(np.float32))
    proba = net.predict_proba(grid_points(talk.state["extent"]))
    shown = np.frombuffer(base64.b64decode(frame["probabilities"]), np.uint8).reshape(-1, 2)
    np.testing.assert_allclose(shown / 255, proba, atol=0.5 / 255 + 1e-9)
    train = np.array(talk.state["points"]["train"])
    accuracy = np.mean(net.predict(train[:, :2]) == train[:, 2])
    assert frame["train"]["accuracy"] == pytest.approx(accuracy)
    loss, _ = net.loss_and_gradients(train[:, :2], train[:, 2].astype(int))
    assert frame["train"]["loss"] == pytest.approx(loss, rel=1e-12)


def test_explain_is_the_library_trace(talk: Conversation, tmp_path: Path) -> None:
    talk.step_epochs(2)
    net, _ = exported_network(talk, tmp_path)
    x1, x2, label = talk.state["points"]["test"][5]
    shown = talk.request("explain", "trace", subset="test", index=5)["trace"]
    expected = trace(net, [[x1, x2]], [int(label)], learning_rate=DEFAULT_SETTINGS["learning_rate"])
    assert shown["x"] == [[x1, x2]] and shown["y"] == [label]
    assert shown == json.loads(json.dumps(to_dict(expected)))


def test_export_then_import_gives_identical_predictions(talk: Conversation, tmp_path: Path) -> None:
    talk.step_epochs(3)
    net, path = exported_network(talk, tmp_path)
    points = np.random.default_rng(0).uniform(-1.5, 1.5, size=(50, 2))
    before = talk.request("predict", "prediction", points=points.tolist())["proba"]
    talk.request("reset", "frame")
    after_reset = talk.request("predict", "prediction", points=points.tolist())["proba"]
    assert after_reset != before
    data = base64.b64encode(path.read_bytes()).decode()
    talk.request("import_model", "frame", name="mine.safetensors", data=data)
    after = talk.request("predict", "prediction", points=points.tolist())["proba"]
    assert after == before
    np.testing.assert_array_equal(np.array(after), net.predict_proba(points))


def test_an_imported_model_with_standardised_inputs_predicts_as_the_library_does(
    talk: Conversation, tmp_path: Path
) -> None:
    """``chainrule train`` standardises the inputs by default and keeps the statistics in the
    model file; the playground fed raw ``x1, x2`` to the first layer, so a model trained on
    data around (200, 200) predicted one class everywhere there."""
    rng = np.random.default_rng(0)
    X = rng.normal([200.0, 200.0], [30.0, 15.0], size=(120, 2))
    y = (X[:, 0] - 200.0) / 30.0 + (X[:, 1] - 200.0) / 15.0 > 0
    csv = tmp_path / "offset.csv"
    csv.write_text(
        "a,b,label\n" + "".join(f"{a},{b},{int(c)}\n" for (a, b), c in zip(X, y, strict=True))
    )
    config = TrainConfig(hidden=(6,), activation="tanh", epochs=20, validation_fraction=0.0)
    fitted = fit(load_csv(csv, task="classification"), config)
    assert fitted.standardizer is not None and np.all(fitted.standardizer.mean_ > 100)
    path = tmp_path / "offset.safetensors"
    fitted.save(path)
    data = base64.b64encode(path.read_bytes()).decode()
    talk.request("import_model", "state", name="offset.safetensors", data=data)
    assert talk.errors == []
    points = rng.normal([200.0, 200.0], [30.0, 15.0], size=(40, 2))
    shown = talk.request("predict", "prediction", points=points.tolist())["proba"]
    expected = FittedModel.load(path).predict_proba(points)  # what chainrule predict applies
    np.testing.assert_allclose(shown, expected, atol=1e-5)
    assert 0 < np.argmax(expected, axis=1).mean() < 1  # both classes: a real check


def non_finite_as_none(value: Any) -> Any:
    """What JSON can carry of the library's numbers: NaN and infinities as ``None``."""
    if isinstance(value, list):
        return [non_finite_as_none(item) for item in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def test_a_model_whose_numbers_overflow_is_explained_and_predicted(
    talk: Conversation, tmp_path: Path
) -> None:
    """Weights of 1e300 (a model file is not bounded as set_weights is) overflow to infinity
    and NaN: explain and predict ended in "internal error: ValueError" (JSON has no NaN) and a
    traceback on the server's console."""
    weights = [np.full((3, 3), 1e300), np.array([[1e300] * 4, [-1e300] * 4])]
    path = tmp_path / "huge.safetensors"
    save_model(path, weights=weights, activations=["relu", "softmax"], loss="cross_entropy")
    data = base64.b64encode(path.read_bytes()).decode()
    talk.request("import_model", "state", name="huge.safetensors", data=data)
    shown = talk.request("explain", "trace", subset="train", index=0)["trace"]
    x, label = talk.state["points"]["train"][0][:2], int(talk.state["points"]["train"][0][2])
    with np.errstate(all="ignore"):
        net = Network.from_weights(weights, ["relu", "softmax"], dtype="float64")
        expected = to_dict(trace(net, np.array([x]), [label], learning_rate=0.03))
        proba = net.predict_proba(np.array([[0.5, 0.5]]))
    assert not np.isfinite(expected["loss"]) or not np.all(np.isfinite(expected["output"]))
    for got, want in zip(shown["layers"], expected["layers"], strict=True):
        for name in ("W", "e", "h", "dL_de", "dL_dW"):
            assert got[name] == non_finite_as_none(want[name])
    predicted = talk.request("predict", "prediction", points=[[0.5, 0.5]])["proba"]
    assert predicted == non_finite_as_none(proba.tolist())
    assert talk.errors == []


def test_bad_model_files_are_refused_by_name(talk: Conversation) -> None:
    garbage = base64.b64encode(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}xxxxxx").decode()
    talk.send("import_model", name="broken.safetensors", data=garbage)
    talk.send("import_model", name="x.safetensors", data="***")
    frame = talk.request("step", "frame", unit="minibatch")
    assert frame["steps"] == 1
    assert "broken.safetensors" in talk.errors[0] and "chainrule-import" not in talk.errors[0]
    assert "not valid base64" in talk.errors[1]


def test_invalid_messages_get_errors_and_the_session_goes_on(talk: Conversation) -> None:
    talk.ws.send_text("{oops")
    talk.send(
        "config", settings={**DEFAULT_SETTINGS, "hidden": [{"units": 40, "activation": "tanh"}]}
    )
    talk.ws.send_bytes(b"\x00\x01")
    talk.ws.send_text(" " * (MAX_MESSAGE_BYTES + 10))
    frame = talk.request("step", "frame", unit="minibatch")
    assert frame["steps"] == 1
    assert len(talk.errors) == 4
    assert "not valid JSON" in talk.errors[0]
    assert "hidden[0].units must be between 1 and 32" in talk.errors[1]
    assert "binary" in talk.errors[2]
    assert "message too large" in talk.errors[3]


def test_message_rate_is_capped() -> None:
    app = create_app(allowed_hosts=["testserver"], messages_per_second=1e-3, message_burst=5)
    with TestClient(app).websocket_connect("/ws", headers=ORIGIN) as ws:
        talk = Conversation(ws)
        for _ in range(10):
            talk.send("view", layer=1, neurons=[0, 1], maps=False)
        replies = [ws.receive_json() for _ in range(6)]
        assert [r["type"] for r in replies] == ["frame"] * 5 + ["error"]
        assert "too many messages" in replies[-1]["message"]


def test_session_limit(client: TestClient) -> None:
    limited = TestClient(create_app(allowed_hosts=["testserver"], max_sessions=1))
    with limited.websocket_connect("/ws", headers=ORIGIN) as first:
        Conversation(first)
        with limited.websocket_connect("/ws", headers=ORIGIN) as second:
            message = second.receive_json()
            assert message["type"] == "error" and "already runs 1 sessions" in message["message"]
            with pytest.raises(WebSocketDisconnect) as closed:
                second.receive_json()
            assert closed.value.code == 1013


@pytest.mark.parametrize("origin", ["http://evil.example", "http://testserver.evil", None])
def test_cross_origin_websockets_are_refused(client: TestClient, origin: str | None) -> None:
    headers = {} if origin is None else {"origin": origin}
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/ws", headers=headers),
    ):
        pass
    assert refused.value.code == 1008


def test_unknown_host_header_is_refused(client: TestClient) -> None:
    assert client.get("/").status_code == 200
    assert client.get("/", headers={"host": "rebound.example"}).status_code == 400


def test_step_units_disable_training_with_an_explanation(talk: Conversation) -> None:
    talk.config(hidden=[{"units": 2, "activation": "step"}])
    assert talk.state["trainable"] is False
    assert "derivative is 0" in talk.state["reason"]
    talk.send("play")
    frame = talk.request("explain", "trace", subset="train", index=0)
    assert frame["trace"]["loss"] is None and frame["trace"]["layers"][0]["dL_de"] is None
    assert "derivative is 0" in talk.errors[0]


def test_the_lecture_hand_wired_xor(talk: Conversation) -> None:
    talk.config(hidden=[{"units": 2, "activation": "step"}], output="step", train_ratio=1.0)
    corners = [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]
    talk.request("points", "frame", points=corners)
    weights = [[[-1, -1, 0.5], [1, 1, -1.5]], [[-1, -1, 0.5]]]
    frame = talk.request("set_weights", "frame", weights=weights)
    assert frame["train"]["accuracy"] == 1.0 and frame["test"] is None
    reference = Network.from_weights(weights, ["step", "step"])
    proba = talk.request("predict", "prediction", points=[c[:2] for c in corners])["proba"]
    assert [round(p[1]) for p in proba] == reference.predict([c[:2] for c in corners]).tolist()


def test_an_exported_step_network_predicts_its_classes_in_the_library(
    talk: Conversation, tmp_path: Path
) -> None:
    """A step output was saved with the loss ``mse``, which marks a regression model: the
    library then gave the output values as class codes (``chainrule predict`` ended in a
    TypeError, ``FittedModel.predict`` in an IndexError)."""
    talk.config(hidden=[{"units": 2, "activation": "step"}], output="step", train_ratio=1.0)
    corners = [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]]
    talk.request("points", "frame", points=corners)
    talk.request("set_weights", "frame", weights=[[[-1, -1, 0.5], [1, 1, -1.5]], [[-1, -1, 0.5]]])
    _, path = exported_network(talk, tmp_path)
    predicted = FittedModel.load(path).predict(np.array([c[:2] for c in corners], dtype=float))
    assert predicted.tolist() == ["0", "1", "1", "0"]  # XOR's truth table


def test_divergence_stops_training_with_the_last_good_weights(talk: Conversation) -> None:
    talk.config(
        dataset="circle",
        hidden=[{"units": 32, "activation": "relu"}] * 6,
        optimizer="momentum",
        learning_rate=10.0,
    )
    for _ in range(10):
        talk.send("step", unit="epoch")
        message = talk.ws.receive_json()
        if message["type"] == "diverged":
            break
    assert message["type"] == "diverged"
    assert "Lower the learning rate" in message["message"]
    # where and what, once: the advice is the message's, not repeated in the detail
    assert re.fullmatch(r"epoch \d+, step \d+: .*(overflow|non-finite|became).*", message["detail"])
    assert "Lower" not in message["detail"]
    frame = talk.receive("frame")
    assert all(np.isfinite(floats(w["data"])).all() for w in frame["weights"])
    assert frame["train"]["loss"] is not None
    assert frame["playing"] is False
    # dL/dW of the restored weights (over the training points), not the failed step's overflow
    net = Network.from_weights(
        [floats(w["data"]).reshape(w["shape"]) for w in frame["weights"]],
        talk.state["activations"],
        dtype="float64",
    )
    train = np.asarray(talk.state["points"]["train"])
    _, expected = net.loss_and_gradients(train[:, :2], train[:, 2].astype(int))
    for shown, gradient in zip(frame["gradients"], expected, strict=True):
        np.testing.assert_allclose(floats(shown["data"]), gradient.ravel(), rtol=1e-3, atol=1e-6)
    assert all(norm is not None for norm in frame["gradient_norms"])


def test_csv_upload(talk: Conversation) -> None:
    rows = ["x1,x2,label"] + [
        f"{np.cos(a):.4f},{np.sin(a):.4f},{'abc'[i % 3]}"
        for i, a in enumerate(np.linspace(0, 6, 30))
    ]
    talk.request("upload_csv", "state", name="three.csv", text="\n".join(rows))
    assert talk.state["classes"] == ["a", "b", "c"]
    assert talk.state["sizes"][-1] == 3 and talk.state["source"] == "custom"
    total = len(talk.state["points"]["train"]) + len(talk.state["points"]["test"])
    assert total == 30
    talk.config(hidden=[{"units": 5, "activation": "relu"}])  # the uploaded data stay
    assert talk.state["classes"] == ["a", "b", "c"] and talk.state["sizes"] == [2, 5, 3]
    bad = "x1,x2,label\n0.1,0.2,a\n0.3,oops,b\n"
    talk.send("upload_csv", name="bad.csv", text=bad)
    talk.send("upload_csv", name="wide.csv", text="a,b,c,y\n1,2,3,0\n4,5,6,1\n")
    frame = talk.request("step", "frame", unit="minibatch")
    assert frame["steps"] == 1
    assert "bad.csv" in talk.errors[0] and "oops" in talk.errors[0]
    assert "3 feature columns" in talk.errors[1]


def test_uploads_with_a_wrong_number_of_classes_say_why(talk: Conversation) -> None:
    rows = [f"{np.cos(a):.3f},{np.sin(a):.3f}" for a in np.linspace(0, 6, 12)]
    regression = [f"{row},{0.37 * i - 1.1:.3f}" for i, row in enumerate(rows)]
    talk.send("upload_csv", name="prices.csv", text="\n".join(["x1,x2,price", *regression]))
    single = [f"{row},cat" for row in rows]
    talk.send("upload_csv", name="cats.csv", text="\n".join(["x1,x2,animal", *single]))
    talk.request("step", "frame", unit="minibatch")
    assert "'prices.csv': the label column 'price' holds 12 different numbers" in talk.errors[0]
    assert "like a regression target" in talk.errors[0]
    assert "'cats.csv': the label column 'animal' holds only 1 class ('cat')" in talk.errors[1]


def test_a_softmax_output_gets_one_unit_per_class_of_points_loaded_under_a_step_output(
    talk: Conversation,
) -> None:
    """A lesson's step output, then a 3-class CSV, then back to softmax (another lesson or
    free play): the points stay, so the output layer needs 3 units, not the step's 2."""
    talk.config(hidden=[], output="step")
    rows = [f"{np.cos(a):.4f},{np.sin(a):.4f},{'abc'[i % 3]}" for i, a in enumerate(range(30))]
    talk.request("upload_csv", "state", name="three.csv", text="\n".join(["x1,x2,y", *rows]))
    assert talk.state["classes"] == ["a", "b", "c"] and talk.state["sizes"] == [2, 1]
    talk.send("config", settings={**talk.state["settings"], "output": "softmax"})
    talk.request("predict", "prediction", points=[[0.0, 0.0]])
    assert talk.errors == []
    assert talk.state["sizes"] == [2, 3] and talk.state["settings"]["n_classes"] == 3
    assert talk.state["classes"] == ["a", "b", "c"] and talk.state["trainable"] is True
    assert talk.request("step", "frame", unit="epoch")["train"]["loss"] is not None


def test_a_new_seed_or_training_share_splits_uploaded_points_anew(talk: Conversation) -> None:
    """Another seed (another initialisation) or training share keeps an uploaded file's points
    and class names, split anew; another data set replaces them."""
    rows = [f"{np.cos(a):.4f},{np.sin(a):.4f},{'abc'[i % 3]}" for i, a in enumerate(range(30))]
    talk.request("upload_csv", "state", name="three.csv", text="\n".join(["x1,x2,y", *rows]))
    uploaded = talk.state["points"]
    everything = sorted(map(tuple, uploaded["train"] + uploaded["test"]))
    for change in ({"seed": 7}, {"train_ratio": 0.8}, {"seed": 8, "train_ratio": 0.3}):
        state = talk.request("config", "state", settings={**talk.state["settings"], **change})
        assert state["source"] == "custom" and state["classes"] == ["a", "b", "c"]
        assert state["settings"].items() >= change.items() and state["sizes"][-1] == 3
        points = state["points"]
        assert sorted(map(tuple, points["train"] + points["test"])) == everything
        assert len(points["train"]) == round(30 * state["settings"]["train_ratio"])
    assert points != uploaded
    talk.config(dataset="moons")
    assert talk.state["source"] == "generated" and talk.state["classes"] == ["0", "1"]
    assert talk.errors == []


def test_points_are_added_and_removed(talk: Conversation) -> None:
    n_train = len(talk.state["points"]["train"])
    talk.request("add_point", "state", x=[0.25, -0.75], label=1)
    assert talk.state["points"]["train"][-1] == [0.25, -0.75, 1]
    talk.request("remove_point", "state", x=[0.25, -0.75], radius=1e-6)
    assert len(talk.state["points"]["train"]) == n_train
    talk.send("add_point", x=[0, 0], label=5)
    talk.send("remove_point", x=[50, 50], radius=0.1)
    talk.request("step", "frame", unit="minibatch")
    assert "label 5 is not a class" in talk.errors[0]
    assert "no point within reach" in talk.errors[1]


def test_hidden_layer_view(talk: Conversation) -> None:
    frame = talk.request("view", "frame", layer=2, neurons=[3, 7], maps=False)
    assert frame["hidden"]["layer"] == 2 and frame["hidden"]["neurons"] == [3, 7]
    assert "maps" not in frame
    n_train = len(talk.state["points"]["train"])
    seen = floats(frame["hidden"]["train"]).reshape(n_train, 2)
    assert np.all(np.abs(seen) <= 1)  # tanh units
    side = len(range(0, GRID, MAP_STRIDE))
    assert floats(frame["hidden"]["grid"]).shape == (side * side * 2,)


def test_a_refused_config_leaves_the_run_as_it_was(talk: Conversation) -> None:
    before = talk.state
    talk.send(
        "config",
        settings={**before["settings"], "dataset": "spiral", "n_points": 4, "n_classes": 6},
    )
    state = talk.request("reset", "state")
    assert "n_classes" in talk.errors[0] or "n_samples" in talk.errors[0]
    assert state["settings"] == before["settings"]
    assert state["sizes"] == before["sizes"] and state["points"] == before["points"]
    model = talk.request("export", "model")  # the network still matches the data's classes
    assert model["filename"].endswith(".safetensors")


def test_a_refused_model_leaves_the_run_as_it_was(talk: Conversation) -> None:
    four = talk.config(dataset="gaussian", n_classes=4)
    assert len(four["weights"]) == 3
    model = talk.request("export", "model")
    talk.config(dataset="xor")
    corners = [[0, 0, 0], [1, 1, 0], [0, 1, 1], [1, 0, 1]]
    before = talk.request("points", "state", points=corners)
    talk.send("import_model", name="four.safetensors", data=model["data"])
    state = talk.request("reset", "state")
    assert "predicts 4 classes" in talk.errors[0]
    assert state["settings"] == before["settings"] and state["sizes"] == [2, 8, 8, 2]
    assert talk.request("export", "model")["filename"].endswith(".safetensors")


def test_changing_the_learning_rate_while_playing_goes_on_playing(talk: Conversation) -> None:
    talk.send("play")
    while not talk.receive("frame")["playing"]:
        pass
    settings = {**talk.state["settings"], "learning_rate": 0.01, "speed": 7}
    state = talk.request("config", "state", settings=settings)
    assert state["reset"] is False and state["settings"]["learning_rate"] == 0.01
    steps = talk.frame["steps"]
    talk.send("predict", points=[[0.0, 0.0]])  # answered after the frames sent so far
    talk.receive("prediction")
    assert talk.frame["playing"] is True and talk.frame["steps"] > steps
    talk.config(hidden=[{"units": 3, "activation": "tanh"}])  # a new network: a new run
    assert talk.frame["playing"] is False and talk.frame["steps"] == 0
    talk.request("pause", "frame")


def test_a_saturated_run_at_chance_is_flagged_stuck_and_a_learning_one_is_not(
    talk: Conversation,
) -> None:
    hidden = [{"units": 8, "activation": "tanh"}] * 2
    talk.config(optimizer="sgd", learning_rate=10.0, hidden=hidden)
    frame = talk.step_epochs(STUCK_EPOCHS)
    assert frame["stuck"] is False  # too few epochs to tell
    frame = talk.step_epochs(2)
    assert frame["saturated"] == [8, 8] and frame["train"]["accuracy"] <= 0.6
    assert frame["stuck"] is True
    assert "g'(e)" in talk.state["stuck_help"] and "smaller η" in talk.state["stuck_help"]
    talk.config(optimizer="adam", learning_rate=0.03)  # keeps the weights: same run
    assert talk.frame["stuck"] is True
    talk.request("reset", "state")
    frame = talk.frame
    assert frame["saturated"] == [0, 0] and frame["stuck"] is False
    frame = talk.step_epochs(STUCK_EPOCHS + 2)
    assert frame["stuck"] is False
    relu = talk.config(hidden=[{"units": 4, "activation": "relu"}])
    assert relu["saturated"] == relu["dead"]
    assert talk.config(hidden=[])["saturated"] == []


def test_restored_data_keeps_its_split_and_class_names(talk: Conversation) -> None:
    """What a page sends back after a reconnect: its train/test points as they were and the
    class names of an uploaded file; inconsistent data is refused and changes nothing."""
    train = [[0.1, 0.2, 0], [0.5, -0.4, 1], [-0.3, 0.9, 2]]
    test = [[0.7, 0.7, 1]]
    talk.request("restore_data", "state", train=train, test=test, classes=["cat", "dog", "eel"])
    assert talk.state["points"] == {"train": train, "test": test}
    assert talk.state["classes"] == ["cat", "dog", "eel"] and talk.state["sizes"][-1] == 3
    refused = [
        ({"classes": ["a", "b"]}, "label 2 has no class name (there are 2)"),
        ({"classes": ["a", "a", "b"]}, "the class names must differ"),
        ({"train": train[:2], "test": []}, "4 to 5,000 points; got 2"),
    ]
    for change, words in refused:
        fields = {"train": train, "test": test, "classes": ["x", "y", "z"], **change}
        talk.send("restore_data", **fields)
        talk.receive("error")
        assert words in talk.errors[-1]
    assert talk.state["classes"] == ["cat", "dog", "eel"]
    frame = talk.request("step", "frame", unit="epoch")
    assert frame["train"] is not None


def test_a_page_that_reports_drawn_frames_is_sent_no_more_than_it_draws(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A browser reads its websocket eagerly: frames a slow page cannot draw would pile up in
    it, and a pause would show seconds later. A page that reports drawn frames has at most
    FRAMES_IN_FLIGHT undrawn ones; training waits for it."""
    monkeypatch.setattr(session_module, "FRAME_DRAWN_WAIT_S", 60.0)

    async def scenario() -> None:
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        def frames() -> list[dict[str, Any]]:
            return [m for m in sent if m["type"] == "frame"]

        session = Session(send)
        await session.start()
        session.frame_drawn()
        await session.handle({"type": "play"})
        for _ in range(40):  # a second of playing: 40 frames to a page that draws none
            await asyncio.sleep(0.025)
        assert len(frames()) == 1 + FRAMES_IN_FLIGHT
        steps = session.trainer.steps if session.trainer else 0
        session.frame_drawn()
        for _ in range(40):
            await asyncio.sleep(0.025)
        assert len(frames()) == 2 + FRAMES_IN_FLIGHT  # one drawn, one more sent
        assert session.trainer is not None and session.trainer.steps > steps
        await session.handle({"type": "pause"})
        assert frames()[-1]["playing"] is False
        await session.close()

    # In a thread of its own: Playwright's sync API may run an event loop in this one.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result(timeout=60)


def test_a_page_gone_mid_frame_ends_training_without_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The tab closed while a frame was on its way (the socket already closing): the training
    loop stops as for a pause, and the server's console shows nothing (it logged a warning
    with a traceback, as for a bug)."""

    async def scenario() -> None:
        frames = 0

        async def send(message: dict[str, Any]) -> None:
            nonlocal frames
            if message["type"] == "frame":
                frames += 1
                if frames > 3:  # the third frame of training: the page has gone
                    raise PageClosed

        session = Session(send)
        await session.start()
        await session.handle({"type": "play"})
        for _ in range(100):
            await asyncio.sleep(0.01)
            if not session.playing:
                break
        assert not session.playing and frames == 4
        await session.close()

    with caplog.at_level("WARNING", logger="chainrule"):
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, scenario()).result(timeout=60)
    assert caplog.records == []


def test_drawn_reports_are_neither_rate_limited_nor_answered(talk: Conversation) -> None:
    for _ in range(200):  # more than the rate limit's burst
        talk.ws.send_text(FRAME_DRAWN)
    talk.send("predict", points=[[0.0, 0.0]])
    reply = talk.ws.receive_json()  # the first reply: no error came before it
    assert reply["type"] == "prediction", reply

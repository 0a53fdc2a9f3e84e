"""A model file where data are read (``chainrule train model.safetensors``, or MODEL given
twice) was read as CSV text and refused as "not UTF-8 text ... save the file as UTF-8"."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_helpers import chainrule, far_from_zero_model, one_line_error

DATA_HINT = "give a CSV or NPZ file or a built-in data set name"


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return far_from_zero_model(tmp_path_factory.mktemp("model_as_data"), 20)[0]


@pytest.mark.parametrize("command", ["evaluate", "predict", "plot"])
def test_a_model_given_as_data_is_named(model: Path, tmp_path: Path, command: str) -> None:
    extra = ["-o", str(tmp_path / "out")] if command == "plot" else []
    result = chainrule(command, model, model, *extra)
    assert one_line_error(result, command) == (
        f"chainrule {command}: error: DATA {str(model)!r} is a model file (.safetensors), not "
        f"data: {DATA_HINT} after MODEL"
    )


def test_train_on_a_model_file_points_to_resume(model: Path, tmp_path: Path) -> None:
    result = chainrule("train", model)
    assert one_line_error(result) == (
        f"chainrule train: error: DATA {str(model)!r} is a model file (.safetensors), not data: "
        f"{DATA_HINT}; to go on training from a checkpoint, give the data with --resume CKPT"
    )
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"\x08\x07")
    result = chainrule("train", "xor", "--validation-data", onnx)
    assert one_line_error(result) == (
        f"chainrule train: error: --validation-data {str(onnx)!r} is a model file (.onnx), not "
        f"data: {DATA_HINT}"
    )


def test_the_library_readers_refuse_a_model_file_too(model: Path) -> None:
    """Python callers of the readers get the same refusal, not "not UTF-8 text"."""
    from chainrule.errors import ValidationError
    from chainrule.fit import FittedModel
    from chainrule.sources import read_dataset, read_for_model, read_like

    fitted = FittedModel.load(model)
    expected = (
        f"the data source {str(model)!r} is a model file (.safetensors), not data: {DATA_HINT}"
    )
    training = read_dataset("xor")
    for read in (
        lambda: read_dataset(model),
        lambda: read_for_model(fitted, model),
        lambda: read_like(training, model),
    ):
        with pytest.raises(ValidationError) as err:
            read()
        assert str(err.value) == expected

"""Files of other kinds given as a model: the message says what the file is, in plain words.

The first 8 bytes of a CSV, a pickle or a ZIP read as a safetensors header length are a number
of trillions; a message quoting that number says nothing a user can act on. Each file here is
made by the tool that makes such files in practice (numpy, pickle, gzip, a real model cut short).
"""

from __future__ import annotations

import gzip
import pickle
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from chainrule.engine import Network
from chainrule.errors import ModelFileError
from chainrule.serialization import load_model, save_model


def model_bytes(folder: Path) -> bytes:
    net = Network([3, 4, 2], ["tanh", "softmax"], seed=0)
    path = folder / "real.safetensors"
    save_model(path, weights=net.weights, activations=net.activations, loss=net.loss.name)
    return path.read_bytes()


def write_csv(path: Path) -> None:
    rows = np.random.default_rng(0).normal(size=(5, 3))
    np.savetxt(path, rows, delimiter=",", header="x1,x2,y", comments="", fmt="%.4f")


FOREIGN: list[tuple[str, Callable[[Path], None], str]] = [
    ("csv", write_csv, "text file (a CSV?) beginning 'x1,x2,y'"),
    ("npy", lambda p: np.save(p, np.ones(3)), "numpy .npy file"),
    ("npz", lambda p: np.savez(p, W1=np.ones(3)), "ZIP archive"),
    ("pickle", lambda p: p.write_bytes(pickle.dumps({"W1": [1.0]})), "Python pickle"),
    ("gzip", lambda p: p.write_bytes(gzip.compress(model_bytes(p.parent))), "gzip-compressed"),
    ("html", lambda p: p.write_text("<!DOCTYPE html>\n<p>404</p>\n"), "HTML or XML page"),
    ("utf-16 text", lambda p: p.write_text("x1,y\n1,2\n", encoding="utf-16"), "byte-order mark"),
    ("lfs", lambda p: p.write_text("version https://git-lfs.github.com/spec/v1\n"), "git lfs pull"),
]


@pytest.mark.parametrize(("make", "kind"), [f[1:] for f in FOREIGN], ids=[f[0] for f in FOREIGN])
def test_a_foreign_file_is_named_for_what_it_is(
    tmp_path: Path, make: Callable[[Path], None], kind: str
) -> None:
    path = tmp_path / "model.safetensors"
    make(path)
    if not path.exists():  # np.save / np.savez add their own suffix
        path = next(p for p in tmp_path.iterdir() if p.name.startswith("model."))
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    text = str(info.value)
    assert path.name in text and kind in text, text
    assert "not a safetensors file" in text, text
    assert not re.search(r"\d{10}", text), f"a meaningless byte count in {text!r}"


def test_empty_file_says_empty(tmp_path: Path) -> None:
    path = tmp_path / "empty.safetensors"
    path.write_bytes(b"")
    with pytest.raises(ModelFileError, match=r"the file is empty \(0 bytes"):
        load_model(path)


@pytest.mark.parametrize("keep", [8, 9, 100])
def test_a_model_cut_short_in_its_header_says_truncated(tmp_path: Path, keep: int) -> None:
    data = model_bytes(tmp_path)
    header_len = int.from_bytes(data[:8], "little")
    assert keep < 8 + header_len
    path = tmp_path / "cut.safetensors"
    path.write_bytes(data[:keep])
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    text = str(info.value)
    assert "the file is truncated" in text, text
    assert f"should be {header_len} bytes but only {keep - 8} follow" in text, text

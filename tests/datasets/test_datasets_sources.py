"""How a command names its data (:mod:`chainrule.sources`): files, built-in names, splits."""

from __future__ import annotations

from pathlib import Path

import pytest

from chainrule.errors import DataError, ValidationError
from chainrule.sources import read_dataset


@pytest.mark.parametrize("name", ["data.json", "iris.cvs", "train.xlsx"])
def test_a_missing_file_is_called_missing_not_an_unknown_data_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A name with a file extension means a file: when it is missing the message says so,
    instead of listing the built-in data sets as if a data set had been misspelt."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError) as info:
        read_dataset(name)
    assert str(info.value) == (
        f"cannot read {name}: no such file, and no built-in data set has that name (see "
        "'chainrule datasets')"
    )


def test_a_name_without_extension_is_still_an_unknown_data_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValidationError, match="unknown data set 'irs'; choose one of xor"):
        read_dataset("irs")
    assert read_dataset("iris").name == "iris"

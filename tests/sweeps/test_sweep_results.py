"""The results file: exact round trips, torn last lines, damaged lines, formats."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from chainrule.errors import ValidationError
from chainrule.sweeps import ResultsFile, ResultsFileError, TrialResult
from chainrule.sweeps.results import CSV_COLUMNS


def result(i: int, status: str = "ok") -> TrialResult:
    params = {"hidden_layers": [8, i], "activation": "tanh", "optimizer": "adam",
              "learning_rate": 0.1 / 3 ** i, "l2": 1e-4, "batch_size": 16, "epochs": 3}  # fmt: skip
    if status != "ok":
        return TrialResult(f"{i:016x}", params, "iris", 3, 0, status, "accuracy",
                           fit_time=0.5, error="training diverged,\nsay \"where\"")  # fmt: skip
    return TrialResult(
        f"{i:016x}", params, "iris", 3, 0, "ok", "accuracy",
        score_mean=2 / 3, score_std=0.1 + 0.2, loss_mean=1 / 7, loss_std=1e-17,
        fold_scores=[0.1, 2 / 3, 1.0], fold_losses=[1 / 3, 0.2, 5e-324], fit_time=1.25,
    )  # fmt: skip


def write(path: Path, results: list[TrialResult]) -> None:
    store = ResultsFile(path)
    store.read()
    store.open()
    for r in results:
        store.append(r)
    store.close()


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_round_trip_is_exact(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"r{suffix}"
    written = [result(1), result(2, "diverged"), result(3)]
    write(path, written)
    back = ResultsFile(path).read()
    expected = {r.trial_id: r for r in written}
    expected["0000000000000002"] = TrialResult(
        **{**written[1].__dict__, "error": 'training diverged, say "where"'}
    ) if suffix == ".csv" else written[1]  # fmt: skip
    assert back == expected
    assert len(path.read_text(encoding="utf-8").splitlines()) == 3 + (suffix == ".csv")


def test_csv_is_readable_by_the_csv_module(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    write(path, [result(1), result(2, "diverged")])
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert float(rows[0]["score_mean"]) == 2 / 3
    assert json.loads(rows[0]["hidden_layers"]) == [8, 1]
    assert rows[1]["score_mean"] == "" and rows[1]["status"] == "diverged"


@pytest.mark.parametrize("suffix", [".jsonl", ".csv"])
def test_a_torn_last_line_is_ignored_then_cut_off(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"r{suffix}"
    write(path, [result(1), result(2)])
    whole = path.read_bytes()
    torn_line = whole.splitlines(keepends=True)[-1][:-20]
    path.write_bytes(whole[: -len(whole.splitlines(keepends=True)[-1])] + torn_line)
    store = ResultsFile(path)
    assert list(store.read()) == ["0000000000000001"]
    assert path.read_bytes().endswith(torn_line)  # reading changes nothing
    store.open()
    store.append(result(2))
    store.close()
    assert path.read_bytes() == whole


def test_a_torn_csv_header_is_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("trial_id,sta", encoding="utf-8")
    write(path, [result(1)])
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(CSV_COLUMNS)
    assert list(ResultsFile(path).read()) == ["0000000000000001"]


def test_a_complete_last_record_without_newline_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    write(path, [result(1)])
    path.write_bytes(path.read_bytes().rstrip(b"\n"))
    write(path, [result(2)])
    assert list(ResultsFile(path).read()) == ["0000000000000001", "0000000000000002"]


def test_the_first_record_of_an_id_wins(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    first, second = result(1), TrialResult(**{**result(1).__dict__, "fit_time": 9.0})
    write(path, [first, second])
    assert ResultsFile(path).read() == {first.trial_id: first}


@pytest.mark.parametrize(
    ("suffix", "content", "fragment"),
    [
        (".jsonl", '{"trial_id": "1"}\nnot json\n', "line 1 is not a trial record (KeyError"),
        (".jsonl", "[1, 2]\n", "line 1 is not a trial record (TypeError"),
        (".csv", "a,b,c\n", "line 1 is not the sweep's CSV header"),
        (".csv", ",".join(CSV_COLUMNS) + "\n1,2,3\n", "line 2 is not a trial record"),
    ],
)
def test_a_damaged_line_stops_and_leaves_the_file_alone(
    tmp_path: Path, suffix: str, content: str, fragment: str
) -> None:
    path = tmp_path / f"r{suffix}"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ResultsFileError) as info:
        ResultsFile(path).read()
    assert fragment in str(info.value) and str(path) in str(info.value)
    assert path.read_text(encoding="utf-8") == content


def test_only_jsonl_and_csv() -> None:
    with pytest.raises(ValidationError, match=r"must end in \.jsonl or \.csv; got '\.json'"):
        ResultsFile("results.json")

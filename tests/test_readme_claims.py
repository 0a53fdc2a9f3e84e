"""The README's checkable promises, read from README.md and held against the real behaviour.

Each test finds its claim in the README's text (so rewording the claim without keeping it true, or
changing the behaviour without the README, fails here): the options its commands pass, the defaults
and file names it states, what a model file holds, the XOR success count, and which random choices
touch numpy's global generator.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from chainrule.cli import OPTIONAL_PACKAGES, build_parser
from cli_helpers import chainrule
from test_examples import README, _readme_blocks

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = README.parent
TEXT = " ".join(README.read_text().split())  # the prose with its line breaks folded


def _claim(pattern: str) -> re.Match[str]:
    """The README's sentence matching ``pattern``; fails, naming it, when the README lost it."""
    found = re.search(pattern, TEXT)
    assert found, f"README.md no longer states /{pattern}/: update this test with the README"
    return found


def _readme_commands() -> list[list[str]]:
    """Every ``chainrule ...`` command of the README's shell blocks, as argv after ``chainrule``
    (continuation lines joined, comments dropped)."""
    commands = []
    for block in _readme_blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            if words[:1] == ["chainrule"]:
                commands.append(words[1:])
    return commands


@pytest.mark.parametrize("argv", _readme_commands(), ids=lambda argv: " ".join(argv)[:60])
def test_each_readme_command_parses(argv: list[str]) -> None:
    """Every option a README command passes exists, with an accepted value (argparse exits 2 on an
    unknown option or choice)."""
    build_parser().parse_args(argv)


def _sub_command_options() -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return {o for p in sub.choices.values() for a in p._actions for o in a.option_strings}


def test_each_option_the_prose_names_exists() -> None:
    """``--resume``, ``--connect-timeout``, ...: each option the README's prose names in
    backticks is an option of some sub-command (the Dask steps' own options left out)."""
    prose = re.sub(r"^```.*?^```$", "", README.read_text(), flags=re.MULTILINE | re.DOTALL)
    prose = "\n".join(line for line in prose.splitlines() if "dask " not in line)
    named = set(re.findall(r"`[^`]*?(--[a-z][a-z0-9-]*)", prose))
    assert named, "the README names no option: the pattern is stale"
    assert named <= _sub_command_options(), named - _sub_command_options()


def test_the_defaults_the_readme_states() -> None:
    parser = build_parser()
    timeout = float(_claim(r"after `--connect-timeout` seconds \((\d+)\)")[1])
    workers = int(_claim(r"local Dask cluster \((\d+) worker processes on 127\.0\.0\.1\)")[1])
    sweep = parser.parse_args(["sweep", "sweep.toml"])
    assert (sweep.connect_timeout, sweep.n_workers) == (timeout, workers)
    host, port = _claim(r"# the browser playground on http://([\d.]+):(\d+)").groups()
    playground = parser.parse_args(["playground"])
    assert (playground.host, playground.port) == (host, int(port))


def test_make_run_writes_the_folder_the_readme_names(tmp_path: Path) -> None:
    folder = _claim(r"make run .*?\(writes its worked example to ([\w-]+)/\)")[1]
    recipe = re.search(r"^run:.*\n\t(.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert recipe and recipe[1].endswith(f"chainrule demo --output-dir {folder}"), recipe
    done = chainrule("demo", "--quick", "--output-dir", folder, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    written = sorted(p.name for p in (tmp_path / folder).iterdir())
    assert written == ["worked_example.json", "worked_example.md"]
    assert json.loads((tmp_path / folder / "worked_example.json").read_text())


def test_sweep_file_names_are_the_readmes() -> None:
    from chainrule.sweeps import load_config
    from chainrule.sweeps.runner import default_model_path, default_results_path

    results = _claim(r"Results stream to `([\w.]+)` next to the config \(or `--results x\.csv`\)")[
        1
    ]
    best, best_of_x_csv = _claim(
        r"saved beside the results, as `([\w.]+)` \(or `([\w.]+)`\)"
    ).groups()
    config = load_config(ROOT / "examples" / "sweep.toml")
    assert default_results_path(config) == ROOT / "examples" / results
    assert default_model_path(default_results_path(config)).name == best
    assert default_model_path(Path("x.csv")).name == best_of_x_csv


def test_the_extras_the_readme_names_exist() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    named = set(re.findall(r"`\[(\w+)\]`", _claim(r"the rest are extras: .*?`\[all\]`")[0]))
    assert named == {"sklearn", "onnx", "dask", "web", "plots", "data", "all"}
    assert named <= set(extras)
    assert set(OPTIONAL_PACKAGES.values()) <= named  # each extra an error message names
    assert any(dep.startswith("scikit-learn") for dep in extras["data"])  # iris, wine, digits


def test_a_model_file_holds_what_the_readme_lists(tmp_path: Path) -> None:
    """Read back with the reference ``safetensors`` library, not chainrule's reader."""
    safetensors = pytest.importorskip("safetensors")
    from chainrule.datasets import load
    from chainrule.fit import TrainConfig, fit

    _claim(
        r"with a JSON header: format version, chainrule version, layer sizes, activations, loss, "
        r"dtype, class labels, the standardisation fitted on the training data, the training "
        r"settings, the per-epoch history, the feature names, and SHA-256 checksums"
    )
    path = tmp_path / "m.safetensors"
    fit(load("xor"), TrainConfig(hidden=(3,), epochs=2)).save(path)
    with safetensors.safe_open(str(path), "np") as opened:
        header = json.loads(opened.metadata()["chainrule"])
    training = header["training"]
    assert isinstance(header["format_version"], int) and header["chainrule_version"]
    assert header["sizes"] == [2, 3, 2] and header["activations"] == ["relu", "softmax"]
    assert header["loss"] == "cross_entropy" and header["dtype"] == "float32"
    assert header["classes"] == ["0", "1"]
    assert len(header["preprocessing"]["standardizer"]["mean"]) == 2
    assert training["config"]["epochs"] == 2 and len(training["history"]["epochs"]) == 2
    assert training["feature_names"] == ["x1", "x2"]
    assert re.fullmatch(r"[0-9a-f]{64}", header["sha256"])


def test_every_seed_of_0_to_99_learns_xor() -> None:
    from chainrule.logic import xor_success_count

    reached = int(
        _claim(r"XOR learned by back-propagation \((\d+) of seeds 0\.\.99 reach 100%\)")[1]
    )
    assert xor_success_count(range(100)) == reached


def _touches_global_state(action: Callable[[], object]) -> bool:
    """Whether ``action`` draws from (or reseeds) numpy's legacy global generator."""
    before = np.random.get_state()  # noqa: NPY002 - the global state is what is checked
    action()
    after = np.random.get_state()  # noqa: NPY002
    return not all(np.array_equal(a, b) for a, b in zip(before, after))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_only_the_estimators_random_state_none_uses_numpys_global_generator() -> None:
    """The README: an int or a Generator in the engine, nothing but the estimators'
    ``random_state=None`` touches numpy's global state; that one draws as scikit-learn's does."""
    import chainrule as cr
    from chainrule.datasets import load
    from chainrule.fit import TrainConfig, fit

    _claim(r"Only the estimators' `random_state=None` draws from numpy's global generator")
    X = np.random.default_rng(0).normal(size=(30, 2))
    y = (X[:, 0] > 0).astype(int)

    def net() -> cr.Network:
        return cr.Network([2, 3, 2], ["tanh", "softmax"], seed=np.random.default_rng(1))

    seeded = [
        lambda: cr.Network([2, 3, 2], ["tanh", "softmax"], seed=None),
        lambda: cr.train(net(), X, y, epochs=2, seed=np.random.default_rng(2)),
        lambda: cr.train(net(), X, y, epochs=2, seed=None),
        lambda: cr.gradcheck(net(), X, y, seed=np.random.default_rng(3)),
        lambda: load("spiral"),
        lambda: fit(load("xor"), TrainConfig(hidden=(3,), epochs=1, seed=None)),
        lambda: cr.MLPClassifier(max_iter=2, random_state=0).fit(X, y),
    ]
    assert [_touches_global_state(action) for action in seeded] == [False] * len(seeded)
    assert _touches_global_state(lambda: cr.MLPClassifier(max_iter=2).fit(X, y))

    sklearn_mlp = pytest.importorskip("sklearn.neural_network")
    np.random.seed(5)  # noqa: NPY002 - random_state=None: both draw from the global generator
    theirs = sklearn_mlp.MLPClassifier((4,), solver="sgd", max_iter=3).fit(X, y)
    np.random.seed(5)  # noqa: NPY002
    ours = cr.MLPClassifier((4,), solver="sgd", max_iter=3, dtype="float64").fit(X, y)
    for a, b in zip(ours.coefs_, theirs.coefs_):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)

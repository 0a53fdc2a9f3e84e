"""The house rules that hold the package together, checked on its source and in fresh interpreters.

* Dependencies point one way, toward the numpy-only engine: nothing in ``chainrule.engine`` imports
  another part of chainrule (aside from ``chainrule.errors`` and the standard-library-only
  ``chainrule._atomic``) or any third-party package but numpy, each module alone or the engine and
  the lecture code (``chainrule.logic``) together.
* Model and data files are pickle-free: no module imports ``pickle``, and every ``np.load`` passes
  ``allow_pickle=False``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "chainrule"
ENGINE_MODULES = sorted(
    f"chainrule.engine.{p.stem}" for p in (PACKAGE / "engine").glob("*.py") if p.stem != "__init__"
)
FORBIDDEN_IN_ENGINE = {
    "sklearn",
    "scipy",
    "torch",
    "matplotlib",
    "starlette",
    "uvicorn",
    "fastapi",
    "dask",
    "distributed",
    "onnx",
    "onnxruntime",
    "safetensors",
    "pandas",
    "hypothesis",
}


def _modules_loaded_by(code: str) -> tuple[set[str], set[str]]:
    """Run ``code`` in a fresh interpreter; return the top-level names of the modules it loaded
    from installed distributions, and of every module it loaded."""
    script = (
        "import json, sys, sysconfig\n"
        "before = set(sys.modules)\n"
        f"{code}\n"
        "site = (sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib'])\n"
        "new = {n: m for n, m in list(sys.modules.items()) if n not in before}\n"
        "installed = {n.split('.')[0] for n, m in new.items()\n"
        "    if str(getattr(m, '__file__', None) or '').startswith(site)}\n"
        "print(json.dumps([sorted(installed), sorted({n.split('.')[0] for n in new})]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    installed, everything = (set(names) for names in json.loads(out.stdout))
    return installed, everything


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, node.lineno))
    return found


@pytest.mark.parametrize("module", ENGINE_MODULES)
def test_engine_module_imports_only_numpy_and_stdlib(module: str) -> None:
    loaded, _ = _modules_loaded_by(f"import {module}")
    assert loaded <= {"numpy", "chainrule"}, loaded
    assert not loaded & FORBIDDEN_IN_ENGINE


def test_engine_and_logic_import_only_numpy_and_the_standard_library() -> None:
    """The packages together, and the lecture code built on the engine, run as well as loaded."""
    installed, everything = _modules_loaded_by(
        "import chainrule.engine, chainrule.logic\n"
        "from chainrule.logic import xor_learned, worked_example\n"
        "xor_learned(0); worked_example().trace()"
    )
    assert installed <= {"numpy"}, installed
    assert "numpy" in installed and "chainrule" in everything  # the check saw real imports
    assert not everything & FORBIDDEN_IN_ENGINE


def test_engine_depends_on_nothing_else_in_chainrule() -> None:
    for path in (PACKAGE / "engine").glob("*.py"):
        for name, line in _imports(path):
            if name.startswith("chainrule"):
                allowed = ("chainrule.engine", "chainrule.errors", "chainrule._atomic")
                assert name.startswith(allowed), f"{path.name}:{line} imports {name}"


def test_no_pickle_anywhere_in_the_package() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for name, line in _imports(path):
            if name.split(".")[0] in ("pickle", "cPickle", "dill", "cloudpickle", "joblib"):
                offenders.append(f"{path.relative_to(PACKAGE)}:{line} imports {name}")
        text = path.read_text(encoding="utf-8")
        if "allow_pickle=True" in text:
            offenders.append(f"{path.relative_to(PACKAGE)} passes allow_pickle=True")
    assert not offenders, offenders


def test_every_numpy_load_refuses_pickles() -> None:
    calls = []
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "load"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in ("np", "numpy")
            ):
                keywords = {k.arg: k.value for k in node.keywords}
                ok = isinstance(keywords.get("allow_pickle"), ast.Constant) and (
                    keywords["allow_pickle"].value is False  # type: ignore[union-attr]
                )
                calls.append((f"{path.relative_to(PACKAGE)}:{node.lineno}", ok))
    assert all(ok for _, ok in calls), [where for where, ok in calls if not ok]


def test_the_package_lists_its_public_names_and_each_resolves() -> None:
    """``dir(chainrule)`` (tab completion) shows the public API, lazy names included, and not
    the helpers ``__init__`` imports; every listed name loads."""
    import chainrule

    names = dir(chainrule)
    assert names == sorted(chainrule.__all__)
    assert {"MLPClassifier", "export_onnx", "sweep", "Network", "trace"} <= set(names)
    assert not {"importlib", "Any", "annotations"} & set(names)
    for name in names:
        assert getattr(chainrule, name) is not None

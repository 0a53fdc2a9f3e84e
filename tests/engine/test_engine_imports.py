"""The engine and the lecture code built on it load nothing but numpy and the standard library
(``tests/test_architecture.py`` checks each engine module alone; this checks the packages)."""

from __future__ import annotations

import json
import subprocess
import sys

FORBIDDEN = {
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


def test_engine_and_logic_import_only_numpy_and_the_standard_library() -> None:
    # Top-level names of the modules the imports add that live in an installed distribution.
    code = (
        "import json, sys, sysconfig\n"
        "before = set(sys.modules)\n"
        "import chainrule.engine, chainrule.logic\n"
        "from chainrule.logic import xor_learned, worked_example\n"
        "xor_learned(0); worked_example().trace()\n"
        "site = (sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib'])\n"
        "new = {n: m for n, m in list(sys.modules.items()) if n not in before}\n"
        "installed = {n.split('.')[0] for n, m in new.items()\n"
        "    if str(getattr(m, '__file__', None) or '').startswith(site)}\n"
        "print(json.dumps([sorted(installed), sorted({n.split('.')[0] for n in new})]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    installed, everything = (set(names) for names in json.loads(out.stdout))
    assert installed <= {"numpy"}, installed
    assert "numpy" in installed and "chainrule" in everything  # the check saw real imports
    assert not everything & FORBIDDEN

"""Pickle-free model files: a pure-numpy safetensors reader/writer and chainrule's model file.

:func:`write_safetensors` / :func:`read_safetensors` speak the safetensors format byte for byte
(files load with the official ``safetensors`` package and vice versa); :func:`save_model` /
:func:`load_model` store a network's weights, its description and optional extra tensors (e.g.
optimizer state for a checkpoint) in one such file, checksummed and written atomically.
"""

from __future__ import annotations

from chainrule.serialization.model_file import ModelFile, load_model, save_model
from chainrule.serialization.safetensors_io import read_safetensors, write_safetensors

__all__ = ["ModelFile", "load_model", "read_safetensors", "save_model", "write_safetensors"]

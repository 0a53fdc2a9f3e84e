"""The version of chainrule: the one place it is written (``pyproject.toml`` reads it from here).

Model files and ONNX exports record it; ``chainrule --version`` prints it.
"""

__version__ = "0.1.0"

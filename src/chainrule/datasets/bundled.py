"""Named data sets: the toy generators, scikit-learn's shipped tables, MNIST downloads.

``load(name, **kwargs)`` returns a :class:`~chainrule.datasets.dataset.Dataset` for any name
in :func:`available`. scikit-learn is imported only when one of its tables is loaded, so
importing this module needs numpy alone.
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np

from chainrule.datasets import toy
from chainrule.datasets._checks import check_int
from chainrule.datasets.dataset import Dataset, Task
from chainrule.datasets.download import Progress, fetch
from chainrule.datasets.idx import read_idx
from chainrule.errors import DataError, ValidationError

__all__ = ["DatasetInfo", "available", "load"]


class DatasetInfo(NamedTuple):
    """One line of the ``chainrule datasets`` listing."""

    name: str
    n_samples: int
    n_features: int
    n_classes: int | None
    task: Task
    description: str


_TOY: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "xor": toy.xor,
    "circle": toy.circle,
    "gaussian": toy.gaussian,
    "spiral": toy.spiral,
    "moons": toy.moons,
    "plane": toy.plane,
    "sine": toy.sine,
}
_SKLEARN = {
    "iris": "load_iris",
    "wine": "load_wine",
    "breast_cancer": "load_breast_cancer",
    "digits": "load_digits",
    "diabetes": "load_diabetes",
}
#: The data sets that come in splits: ``NAME:SPLIT`` (``mnist:test``) names one.
_SPLIT = ("mnist", "fashion_mnist")
_FASHION_CLASSES = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]

_INFO: tuple[DatasetInfo, ...] = (
    DatasetInfo(
        "xor",
        200,
        2,
        2,
        "classification",
        "four quadrant clusters, label = XOR of the signs (toy, seeded)",
    ),
    DatasetInfo(
        "circle",
        200,
        2,
        2,
        "classification",
        "inner disc vs surrounding ring; n_classes up to 6 rings (toy, seeded)",
    ),
    DatasetInfo(
        "gaussian",
        200,
        2,
        2,
        "classification",
        "Gaussian blobs on a circle; n_classes up to 12 (toy, seeded)",
    ),
    DatasetInfo(
        "spiral",
        200,
        2,
        2,
        "classification",
        "interleaved spiral arms, one per class, up to 6 (toy, seeded)",
    ),
    DatasetInfo(
        "moons", 200, 2, 2, "classification", "two interleaving half circles (toy, seeded)"
    ),
    DatasetInfo(
        "plane", 200, 2, None, "regression", "y = 0.6 x1 - 0.4 x2 + 0.1 + noise (toy, seeded)"
    ),
    DatasetInfo(
        "sine", 200, 1, None, "regression", "y = sin(pi x) + noise on [-1, 1] (toy, seeded)"
    ),
    DatasetInfo("iris", 150, 4, 3, "classification", "Fisher's iris flowers (scikit-learn)"),
    DatasetInfo(
        "wine",
        178,
        13,
        3,
        "classification",
        "chemical analysis of three Italian wine cultivars (scikit-learn)",
    ),
    DatasetInfo(
        "breast_cancer",
        569,
        30,
        2,
        "classification",
        "Wisconsin diagnostic breast cancer (scikit-learn)",
    ),
    DatasetInfo("digits", 1797, 64, 10, "classification", "8x8 handwritten digits (scikit-learn)"),
    DatasetInfo(
        "diabetes",
        442,
        10,
        None,
        "regression",
        "diabetes progression after one year (scikit-learn)",
    ),
    DatasetInfo(
        "mnist",
        60000,
        784,
        10,
        "classification",
        "28x28 handwritten digits; mnist:test has 10000 (download, 11 MB)",
    ),
    DatasetInfo(
        "fashion_mnist",
        60000,
        784,
        10,
        "classification",
        "28x28 Zalando clothing images; fashion_mnist:test has 10000 (download, 30 MB)",
    ),
)


def available() -> list[DatasetInfo]:
    """All names :func:`load` accepts, with their default size and a one-line description.

    Returns
    -------
    list of DatasetInfo
        ``(name, n_samples, n_features, n_classes or None, task, description)``; for the toy
        generators the numbers are those of the default arguments.

    Examples
    --------
    >>> [d.name for d in available()][:3]
    ['xor', 'circle', 'gaussian']
    """
    return list(_INFO)


def _names() -> str:
    return ", ".join(d.name for d in _INFO)


def load(name: str, **kwargs: Any) -> Dataset:
    """Load a named data set.

    Parameters
    ----------
    name : str
        One of :func:`available`'s names. ``NAME:SPLIT`` picks a split of a data set that
        has them: ``mnist:test`` is ``load("mnist", split="test")``.
    **kwargs
        Toy generators: their arguments (``n_samples``, ``noise``, ``n_classes``, ``seed``).
        ``mnist`` / ``fashion_mnist``: ``split`` ("train" or "test"), ``max_samples``,
        ``cache_dir``, ``base_url``, ``checksums``, ``timeout``, ``progress`` (see
        :func:`~chainrule.datasets.download.fetch`). scikit-learn tables take none.

    Returns
    -------
    Dataset
        MNIST pixels are scaled to ``[0, 1]`` and flattened to 784 features (float64: the
        60,000 training images take 376 MB; use ``max_samples`` for less).

    Raises
    ------
    ValidationError
        For an unknown name (the message lists the valid ones) or argument.
    DataError
        If scikit-learn is needed but missing, or a file is bad.
    DownloadError
        If an MNIST file cannot be downloaded or fails its checksum.

    Examples
    --------
    >>> ds = load("spiral", n_samples=60, n_classes=3, seed=0)
    >>> ds.X.shape, ds.classes
    ((60, 2), ['0', '1', '2'])
    """
    if not isinstance(name, str):
        raise ValidationError(f"data set name must be a string; got {name!r}")
    name, colon, split = name.partition(":")
    if colon:
        if name not in _SPLIT:
            raise ValidationError(
                f"data set {name!r} has no splits; NAME:SPLIT works for "
                f"{', '.join(_SPLIT)} (e.g. mnist:test)"
            )
        if "split" in kwargs:
            raise ValidationError(f"give the split once: {name}:{split} or split=, not both")
        kwargs = {**kwargs, "split": split}
    if name in _TOY:
        return _load_toy(name, kwargs)
    if name in _SKLEARN:
        if kwargs:
            raise ValidationError(
                f"data set {name!r} takes no arguments; got {', '.join(sorted(kwargs))}"
            )
        return _load_sklearn(name)
    if name in _SPLIT:
        _check_arguments(name, kwargs, _load_mnist)
        return _load_mnist(name, **kwargs)
    raise ValidationError(f"unknown data set {name!r}; choose one of {_names()}")


def _check_arguments(name: str, kwargs: Mapping[str, Any], loader: Callable[..., Any]) -> None:
    """Refuse keyword arguments that ``loader`` does not take for data set ``name``, naming
    the ones it does (a ValidationError, not Python's TypeError about a private function).

    Every parameter of ``loader`` but ``name`` (which :func:`load` fills itself) is one."""
    accepted = [p for p in inspect.signature(loader).parameters if p != "name"]
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise ValidationError(
            f"unknown argument {unknown[0]!r} for data set {name!r}; accepted: "
            f"{', '.join(accepted)}"
        )


def _load_toy(name: str, kwargs: Mapping[str, Any]) -> Dataset:
    generator = _TOY[name]
    _check_arguments(name, kwargs, generator)
    X, y = generator(**kwargs)
    feature_names = [f"x{j + 1}" for j in range(X.shape[1])]
    if y.dtype.kind == "f":
        return Dataset(X, y, feature_names, "y", None, "regression", name)
    n_classes = int(kwargs.get("n_classes", 2))
    classes = [str(c) for c in range(n_classes)]
    return Dataset(X, y, feature_names, "y", classes, "classification", name)


def _load_sklearn(name: str) -> Dataset:
    try:
        sk_datasets = importlib.import_module("sklearn.datasets")
    except ImportError as exc:
        raise DataError(
            f"data set {name!r} comes from scikit-learn, which is not installed; "
            "install it with: pip install chainrule[data]"
        ) from exc
    bunch = getattr(sk_datasets, _SKLEARN[name])()
    X = np.asarray(bunch.data, dtype=np.float64)
    raw_names = getattr(bunch, "feature_names", None)
    feature_names = (
        [str(f) for f in raw_names]
        if raw_names is not None and len(raw_names) == X.shape[1]
        else [f"x{j + 1}" for j in range(X.shape[1])]
    )
    if name == "diabetes":
        y = np.asarray(bunch.target, dtype=np.float64)
        return Dataset(X, y, feature_names, "progression", None, "regression", name)
    y = np.asarray(bunch.target).astype(np.int64)
    classes = [str(c) for c in bunch.target_names]
    return Dataset(X, y, feature_names, "target", classes, "classification", name)


def _load_mnist(
    name: str,
    *,
    split: str = "train",
    max_samples: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    base_url: str | None = None,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    progress: Progress | None = None,
) -> Dataset:
    if split not in ("train", "test"):
        raise ValidationError(f"{name}: the split must be 'train' or 'test'; got {split!r}")
    limit = None if max_samples is None else check_int(max_samples, "max_samples", low=1)
    prefix = "train" if split == "train" else "t10k"
    images_file, labels_file = f"{prefix}-images-idx3-ubyte.gz", f"{prefix}-labels-idx1-ubyte.gz"
    paths = fetch(  # this split's two files only
        name,
        cache_dir,
        base_url,
        checksums=checksums,
        timeout=timeout,
        progress=progress,
        files=(images_file, labels_file),
    )
    images_path, labels_path = paths[images_file], paths[labels_file]
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataError(
            f"{images_path}: expected uint8 images of shape (n, rows, cols); "
            f"got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
        raise DataError(
            f"{labels_path}: expected {images.shape[0]} labels to match the images; "
            f"got shape {labels.shape}"
        )
    if labels.dtype != np.uint8:  # else -1 would pass the check below and 2.7 become 2
        raise DataError(f"{labels_path}: expected uint8 labels (digits 0..9); got {labels.dtype}")
    if labels.size and int(labels.max()) > 9:
        raise DataError(f"{labels_path}: labels must be digits 0..9; found {int(labels.max())}")
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    n, rows, cols = images.shape
    X = images.reshape(n, rows * cols).astype(np.float64) / 255.0
    feature_names = [f"pixel_{r}_{c}" for r in range(rows) for c in range(cols)]
    classes = _FASHION_CLASSES if name == "fashion_mnist" else [str(d) for d in range(10)]
    return Dataset(
        X,
        labels.astype(np.int64),
        feature_names,
        "label",
        list(classes),
        "classification",
        f"{name}-{split}",
    )

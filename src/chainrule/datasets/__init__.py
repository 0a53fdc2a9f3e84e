"""Data for chainrule: toy generators, CSV/NPZ files, named data sets, downloads, scaling.

Importing this package needs numpy and the standard library only; scikit-learn is imported
when one of its bundled tables is loaded.

Examples
--------
>>> from chainrule.datasets import load, train_test_split, Standardizer
>>> ds = load("xor", n_samples=100, seed=0)
>>> X_tr, X_te, y_tr, y_te = train_test_split(ds.X, ds.y, 0.2, seed=0)
>>> scaler = Standardizer().fit(X_tr)
>>> scaler.transform(X_te).shape
(20, 2)
"""

from chainrule.datasets.bundled import DatasetInfo, available, load
from chainrule.datasets.dataset import Dataset, Features
from chainrule.datasets.download import default_cache_dir, download_file, fetch, sha256_of
from chainrule.datasets.files import load_csv, load_npz, save_csv
from chainrule.datasets.idx import read_idx, write_idx
from chainrule.datasets.preprocessing import Standardizer, train_test_split
from chainrule.datasets.toy import circle, gaussian, moons, plane, sine, spiral, xor

__all__ = [
    "Dataset",
    "DatasetInfo",
    "Features",
    "Standardizer",
    "available",
    "circle",
    "default_cache_dir",
    "download_file",
    "fetch",
    "gaussian",
    "load",
    "load_csv",
    "load_npz",
    "moons",
    "plane",
    "read_idx",
    "save_csv",
    "sha256_of",
    "sine",
    "spiral",
    "train_test_split",
    "write_idx",
    "xor",
]

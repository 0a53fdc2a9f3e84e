"""Handwritten digits (8x8, bundled with scikit-learn) three ways: the fit API, the drop-in
scikit-learn estimator, and a model file exported to ONNX.

Run: python examples/digits.py   (needs chainrule[sklearn,onnx])
"""

import dataclasses
import tempfile
from pathlib import Path

import numpy as np

import chainrule
from chainrule.datasets import load, train_test_split
from chainrule.fit import FittedModel, TrainConfig, fit

digits = load("digits")
X_train, X_test, y_train, y_test = train_test_split(digits.X, digits.y, seed=0)

# 1. The fit API: standardisation, validation split and history, as `chainrule train` does.
train_part = dataclasses.replace(digits, X=X_train, y=y_train, name="digits-train")
model = fit(train_part, TrainConfig(hidden=(128,), epochs=30, seed=0))
accuracy = np.mean(model.predict(X_test) == digits.decode(y_test))
print(f"fit API: test accuracy {accuracy:.3f} after {len(model.history.epochs)} epochs")

# 2. The scikit-learn estimator: swap the import, keep the script.
clf = chainrule.MLPClassifier(hidden_layer_sizes=(64,), max_iter=200, tol=1e-3, random_state=0)
clf.fit(X_train / 16, y_train)
print(f"MLPClassifier: test accuracy {clf.score(X_test / 16, y_test):.3f} in {clf.n_iter_} epochs")

# 3. Save the model file, load it back, export it to ONNX.
with tempfile.TemporaryDirectory() as tmp:
    path = Path(tmp) / "digits.safetensors"
    model.save(path)
    again = FittedModel.load(path)
    assert (again.predict(X_test) == model.predict(X_test)).all()
    chainrule.export_onnx(path, Path(tmp) / "digits.onnx")
    print("saved, reloaded and exported to ONNX:", sorted(p.name for p in Path(tmp).iterdir()))

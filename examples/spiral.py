"""A small network learns a three-arm spiral by minibatch back-propagation.

Run: python examples/spiral.py
"""

import numpy as np

from chainrule.datasets import spiral
from chainrule.engine import Adam, Network, Trainer

X, y = spiral(300, n_classes=3, noise=0.05, seed=0)
X_test, y_test = spiral(300, n_classes=3, noise=0.05, seed=1)

net = Network([2, 32, 32, 3], ["tanh", "tanh", "softmax"], seed=0)
trainer = Trainer(net, X, y, optimizer=Adam(0.02), batch_size=32, seed=0)
for epoch in range(1, 251):
    loss = trainer.run_epoch()
    if epoch % 50 == 0:
        print(f"epoch {epoch:3d}: loss {loss:.4f}")

print(f"train accuracy {np.mean(net.predict(X) == y):.1%}")
print(f"test accuracy  {np.mean(net.predict(X_test) == y_test):.1%}")

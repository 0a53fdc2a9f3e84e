"""scikit-learn estimators trained by chainrule's engine: drop-in ``MLPClassifier`` and
``MLPRegressor``, and conversion to and from scikit-learn's own.

Importing this package imports scikit-learn (``pip install chainrule[sklearn]``).

>>> from chainrule.estimators import MLPClassifier   # instead of sklearn.neural_network
"""

from chainrule.estimators._convert import from_sklearn
from chainrule.estimators._mlp import MLPClassifier, MLPRegressor

__all__ = ["MLPClassifier", "MLPRegressor", "from_sklearn"]

"""Network construction and inputs: what a practitioner's realistic mistakes and pandas give.

* An initializer returning ``(n_in, n_out)`` built a network of other widths without a word;
  one returning ints built an int network, NaN a NaN network, float32 a float32 one in a
  float64 network.
* ``activations="tanh"`` was read as four activations 't', 'a', 'n', 'h'.
* A pandas DataFrame of nullable dtypes (``Float64``, what ``convert_dtypes()`` gives) was
  refused as "dtype object" with no word on how to convert it; a ``pd.NA`` was not named.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from chainrule.engine.network import Network
from chainrule.errors import ValidationError


def test_an_initializer_of_the_wrong_shape_is_refused():
    with pytest.raises(ValidationError, match=r"initializer returned W\^\(1\) of shape \(2, 3\)"):
        Network(
            [2, 3, 2],
            ["tanh", "softmax"],
            init=lambda n_in, n_out, rng, dtype: np.zeros((n_in, n_out)),
        )


def test_an_initializers_matrix_takes_the_networks_dtype():
    def integers(n_in, n_out, rng, dtype):
        return np.arange(n_out * (n_in + 1)).reshape(n_out, n_in + 1) % 3 - 1

    net = Network([2, 3, 2], ["tanh", "softmax"], init=integers, dtype="float64")
    assert all(W.dtype == np.float64 for W in net.weights)
    np.testing.assert_array_equal(net.weights[0], integers(2, 3, None, None))


def test_an_initializer_giving_nan_is_refused():
    with pytest.raises(ValidationError, match=r"W\^\(1\) has non-finite"):
        Network([2, 2], ["softmax"], init=lambda i, o, r, d: np.full((o, i + 1), np.nan))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Network([2, 2], "softmax"), "activations must be a list of names"),
        (lambda: Network(3, ["softmax"]), "sizes must be a list of layer widths"),
        (lambda: Network.from_weights([np.zeros((2, 3))], "tanh"), "activations must be a list"),
        (lambda: Network.from_weights(np.zeros((2, 3)), ["tanh"]), "got one array of shape"),
        (lambda: Network.from_weights([[[1.0, 2.0], [1.0]]], ["tanh"]), "not a numeric matrix"),
    ],
)
def test_a_string_or_a_single_matrix_is_no_list(build, message):
    with pytest.raises(ValidationError, match=message):
        build()


def test_nullable_pandas_columns_are_refused_with_how_to_convert_them():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=6), "b": rng.integers(0, 5, size=6)})
    nullable = X.convert_dtypes()  # Float64 and Int64: numpy sees objects
    assert np.asarray(nullable).dtype == object
    net = Network([2, 3, 2], ["tanh", "softmax"], seed=0, dtype="float64")
    with pytest.raises(ValidationError, match=r"dtype object .* np.asarray\(X, dtype=float\)"):
        net.forward(nullable)
    converted = np.asarray(nullable, dtype=float)  # the advice works, and gives the numbers
    np.testing.assert_array_equal(net.forward(converted), net.forward(X.to_numpy(np.float64)))


def test_a_missing_value_is_named_by_row_and_column():
    X = pd.DataFrame({"a": pd.array([0.5, None], dtype="Float64"), "b": [1.0, 2.0]})
    net = Network([2, 2], ["softmax"], seed=0)
    with pytest.raises(ValidationError, match=r"X must hold real numbers; got <NA>.* row 1, col"):
        net.forward(X)


def test_set_weights_takes_any_iterable_of_matrices():
    net = Network([2, 3, 2], ["tanh", "softmax"], seed=0)
    wanted = [W + 1 for W in net.weights]
    net.set_weights(W for W in wanted)
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, wanted, strict=True))


def test_from_weights_takes_its_dtype_from_any_array_like() -> None:
    """A torch tensor (its dtype has no numpy ``.name``) and a float32 DataFrame build float32
    networks, as numpy sees them; nested lists a float64 one."""
    torch = pytest.importorskip("torch")
    W = [[1.0, 1.0, -0.5]]
    assert Network.from_weights([torch.tensor(W)], ["step"]).dtype == np.float32
    frame = pd.DataFrame(np.array(W, dtype=np.float32))
    assert Network.from_weights([frame], ["step"]).dtype == np.float32
    assert Network.from_weights([W], ["step"]).dtype == np.float64

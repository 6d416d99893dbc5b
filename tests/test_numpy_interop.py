"""numpy's own ufuncs and functions on Values (SPEC §7, numpy interop).

A numpy call with a table op returns a Value whose gradient matches finite
differences; any other numpy call raises TypeError naming the numpy function.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd_lite as al


def _r(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


POSITIVE = np.abs(_r(3, 4)) + 0.5

# (numpy call, table op it must record, input)
CALLS = [
    (lambda v: np.add(v, 1.0), "add", _r(3, 4)),
    (lambda v: np.subtract(2.0, v), "sub", _r(3, 4)),
    (lambda v: np.multiply(v, v), "mul", _r(3, 4)),
    (lambda v: np.divide(1.0, v), "div", POSITIVE),
    (lambda v: np.true_divide(v, 3.0), "div", _r(3, 4)),
    (lambda v: np.power(v, 3.0), "pow", _r(3, 4)),
    (lambda v: np.power(2.0, v), "pow", _r(3, 4)),
    (lambda v: np.negative(v), "neg", _r(3, 4)),
    (lambda v: np.matmul(v, np.ones((4, 2))), "matmul", _r(3, 4)),
    (lambda v: np.exp(v), "exp", _r(3, 4)),
    (lambda v: np.log(v), "log", POSITIVE),
    (lambda v: np.sqrt(v), "sqrt", POSITIVE),
    (lambda v: np.abs(v), "abs", _r(3, 4)),
    (lambda v: np.absolute(v), "abs", _r(3, 4)),
    (lambda v: np.tanh(v), "tanh", _r(3, 4)),
    (lambda v: np.sin(v), "sin", _r(3, 4)),
    (lambda v: np.cos(v), "cos", _r(3, 4)),
    (lambda v: np.maximum(v, 0), "maximum", _r(3, 4)),
    (lambda v: np.minimum(0.2, v), "minimum", _r(3, 4)),
    (lambda v: np.heaviside(v, 1.0) * v, "mul", _r(3, 4)),
    (lambda v: np.heaviside(v, 1), "step", _r(3, 4)),
    (lambda v: np.logaddexp(0.0, v), "softplus", _r(3, 4)),
    (lambda v: np.logaddexp(v, 0), "softplus", _r(3, 4)),
    (lambda v: np.sum(v, axis=0), "sum", _r(3, 4)),
    (lambda v: np.sum(v), "sum", _r(3, 4)),
    (lambda v: np.add.reduce(v, axis=1), "sum", _r(3, 4)),
    (lambda v: np.mean(v, axis=1, keepdims=True), "mean", _r(3, 4)),
    (lambda v: np.max(v, axis=1), "max", _r(3, 4)),
    (lambda v: np.amax(v), "max", _r(3, 4)),
    (lambda v: np.maximum.reduce(v, axis=0), "max", _r(3, 4)),
    (lambda v: np.min(v, axis=0), "min", _r(3, 4)),
    (lambda v: np.minimum.reduce(v), "min", _r(3, 4)),
    (lambda v: np.var(v, axis=1, ddof=1), "var", _r(3, 4)),
    (lambda v: np.std(v), "std", _r(3, 4)),
    (lambda v: np.reshape(v, (4, 3)), "reshape", _r(3, 4)),
    (lambda v: np.reshape(v, -1), "reshape", _r(3, 4)),
    (lambda v: np.transpose(v), "transpose", _r(3, 4)),
    (lambda v: np.transpose(v, (1, 0, 2)), "transpose", _r(2, 3, 4)),
    (lambda v: np.squeeze(v), "squeeze", _r(3, 1, 4)),
    (lambda v: np.expand_dims(v, 0), "expand_dims", _r(3, 4)),
    (lambda v: np.broadcast_to(v, (2, 3, 4)), "broadcast_to", _r(3, 4)),
    (lambda v: np.clip(v, -0.5, 0.5), "clip", _r(3, 4)),
    (lambda v: np.where(_r(3, 4, seed=9) > 0, v, -v), "where", _r(3, 4)),
    (lambda v: np.concatenate([v, v * 2.0], axis=1), "concatenate", _r(3, 4)),
    (lambda v: np.concatenate([v, v]), "concatenate", _r(3, 4)),
    (lambda v: np.stack([v, v, v], axis=-1), "stack", _r(3, 4)),
    (lambda v: np.split(v, 2, axis=1)[1], "split", _r(3, 4)),
    (lambda v: np.pad(v, 1, constant_values=0.5), "pad", _r(3, 4)),
    (lambda v: np.dot(v, np.ones(4)), "matmul", _r(3, 4)),
    (lambda v: np.ones((2, 3)) * v, "mul", _r(3, 4)[:1, :3]),
    (lambda v: np.ones((2, 3)) @ v, "matmul", _r(3, 4)),
    (lambda v: np.ones((3, 4)) - v, "sub", _r(3, 4)),
    (lambda v: np.float64(2.0) ** v, "pow", _r(3, 4)),
]


@pytest.mark.parametrize(
    ("call", "op", "x"), CALLS, ids=[f"{c[1]}-{i}" for i, c in enumerate(CALLS)]
)
def test_numpy_call_records_the_table_op_with_gradients(call, op, x) -> None:
    v = al.Value(x)
    out = call(v)
    assert isinstance(out, al.Value)
    assert out.op == op
    assert al.gradcheck(call, v)


def test_scipy_expit_is_the_sigmoid() -> None:
    from scipy import special  # a dependency of scikit-learn, so always installed

    v = al.Value(_r(3))
    out = special.expit(v)
    assert out.op == "sigmoid"
    np.testing.assert_allclose(out.data, special.expit(v.data))


def test_result_matches_numpy_on_the_data() -> None:
    x = _r(3, 4)
    v = al.Value(x)
    np.testing.assert_allclose(np.tanh(v).data, np.tanh(x))
    np.testing.assert_allclose(np.sum(v, axis=0).data, np.sum(x, axis=0))
    np.testing.assert_allclose(np.var(v, ddof=1).data, np.var(x, ddof=1))
    np.testing.assert_allclose(np.concatenate([v, v], axis=None).data, np.concatenate([x, x], None))
    np.testing.assert_allclose(np.clip(v, a_min=None, a_max=0.1).data, np.clip(x, None, 0.1))


def test_second_derivative_through_numpy_calls() -> None:
    f = lambda v: np.sum(np.sin(v) * np.exp(v))
    x = _r(3)
    hessian = al.hessian(f)(x)
    np.testing.assert_allclose(hessian, np.diag(2 * np.cos(x) * np.exp(x)), atol=1e-10)


def test_array_on_the_left_of_an_operator_is_still_a_value() -> None:
    v = al.Value([1.0, 2.0])
    for out in (np.ones(2) * v, np.ones(2) + v, np.ones(2) / v, np.ones(2) ** v, np.ones(2) - v):
        assert isinstance(out, al.Value)
    assert isinstance(np.float32(2.0) * v, al.Value)


def test_comparisons_give_plain_booleans() -> None:
    v = al.Value([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(np.full(3, 2.0) < v, [False, False, True])
    np.testing.assert_array_equal(np.less_equal(v, 2.0), [True, True, False])
    np.testing.assert_array_equal(np.full(3, 2.0) == v, [False, True, False])


def test_metadata_functions() -> None:
    v = al.Value(np.zeros((2, 3)))
    assert np.shape(v) == (2, 3) and np.ndim(v) == 2 and np.size(v) == 6


@pytest.mark.parametrize(
    ("call", "name"),
    [
        (lambda v: np.cumsum(v), "numpy.cumsum"),
        (lambda v: np.square(v), "numpy.square"),
        (lambda v: np.sort(v), "numpy.sort"),
        (lambda v: np.arctan2(v, 1.0), "numpy.arctan2"),
        (lambda v: np.multiply.outer(v, v), "numpy.multiply.outer"),
        (lambda v: np.prod(v), "numpy.prod"),
        (lambda v: np.linalg.norm(v), "numpy.linalg.norm"),
        (lambda v: np.fft.fft(v), "numpy.fft.fft"),
        (lambda v: np.add(v, 1.0, out=np.zeros(3)), "numpy.add: out="),
        (lambda v: np.sum(v, dtype=np.float32), "numpy.sum: argument dtype"),
        (lambda v: np.pad(v, 1, mode="edge"), "numpy.pad: mode='edge'"),
        (lambda v: np.where(v), "numpy.where with only a condition"),
        (lambda v: np.heaviside(v, 0.5), "numpy.heaviside"),
        (lambda v: np.logaddexp(v, 1.0), "numpy.logaddexp"),
        (lambda v: np.logaddexp(v, v), "numpy.logaddexp"),
    ],
)
def test_numpy_function_without_table_op_raises_naming_it(call, name) -> None:
    v = al.Value([1.0, -2.0, 3.0])
    with pytest.raises(TypeError, match=name.replace(".", r"\.").replace("(", r"\(")):
        call(v)


def test_asarray_of_a_value_is_refused_or_its_constant_data() -> None:
    # numpy does not dispatch np.asarray: it made an object array of getitem Values
    v = al.Value([1.0, -2.0, 3.0], label="v")
    for convert in (np.asarray, np.array):
        with pytest.raises(TypeError, match=r"np\.asarray/np\.array of Value\(label='v'"):
            convert(v)
    with pytest.raises(TypeError, match="requires grad"):
        np.zeros(3)[np.array([0, 1, 2])] = v * 2  # assignment into an array converts too
    c = al.Value([[1.0, 2.0]], requires_grad=False)
    got = np.asarray(c, dtype=np.float32)
    assert got.dtype == np.float32 and got.tolist() == [[1.0, 2.0]]
    assert np.asarray(al.Value(2.0, requires_grad=False)).shape == ()


def test_in_place_numpy_update_of_an_array_with_a_value_is_refused() -> None:
    a = np.ones(3)
    with pytest.raises(TypeError, match="out="):
        a += al.Value([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(a, np.ones(3))  # nothing half-updated

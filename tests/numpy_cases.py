"""The mx.np cases whose results MXNet 1.9.1 recorded (reference/numpy_fixtures.py runs them on MXNet's `np`) and
tests/test_numpy_interface.py compares with dataflow's: one list for both sides."""


def cases(np, onp):
    """{name: a function making the case's array} on the `np` module given (MXNet's or dataflow's)."""
    ints = onp.arange(6, dtype=onp.int32).reshape(2, 3)
    return {
        "array_int_list": lambda: np.array([1, 2, 3]),
        "array_float_list": lambda: np.array([1.5, 2.0]),
        "array_numpy_int64": lambda: np.array(onp.arange(3)),
        "array_numpy_float64": lambda: np.array(onp.ones(3)),
        "zeros": lambda: np.zeros((2, 2)),
        "ones": lambda: np.ones(3),
        "full_int": lambda: np.full((2,), 7),
        "full_float": lambda: np.full((2,), 0.5),
        "empty": lambda: np.empty((1, 2)),
        "arange_int": lambda: np.arange(5),
        "arange_float_step": lambda: np.arange(0, 1, 0.25),
        "linspace": lambda: np.linspace(0, 1, 5),
        "eye": lambda: np.eye(3),
        "argmax": lambda: np.argmax(np.array([[1., 5., 2.], [7., 0., 1.]]), axis=1),
        "compare": lambda: np.array([1., 2.]) < np.array([2., 2.]),
        "int_truediv": lambda: np.array(ints, dtype="int32") / np.array(ints + 1, dtype="int32"),
        "int_sum": lambda: np.sum(np.array(ints, dtype="int32")),
        "int_mean": lambda: np.mean(np.array(ints, dtype="int32")),
        "sum_all_float": lambda: np.sum(np.array([[1., 2.], [3., 4.]])),
        "randint": lambda: np.random.randint(0, 10, size=(3,)),
        "normal": lambda: np.random.normal(0, 1, size=(2,)),
        "uniform_scalar": lambda: np.random.uniform(),
        "zero_dim_array": lambda: np.array(3.5),
        "item_index": lambda: np.array([[1., 2.], [3., 4.]])[1, 0],
        "row_index": lambda: np.array([[1., 2.], [3., 4.]])[1],
        "exp_int": lambda: np.exp(np.array(ints, dtype="int32")),
        "zeros_like_int": lambda: np.zeros_like(np.array(ints, dtype="int32")),
        "float_index_take": lambda: np.array([10., 20., 30.])[np.array([2, 0])],
        "int_div_scalar": lambda: np.array(ints, dtype="int32") / 2,
        "float32_plus_int32": lambda: np.ones(3) + np.array([1, 2, 3], dtype="int32"),
        "float64_times_float32": lambda: np.ones(3, dtype="float64") * np.ones(3),
        "int32_plus_int64": lambda: np.array([1, 2], dtype="int32") + np.array([1, 2], dtype="int64"),
        "mean_keepdims": lambda: np.mean(np.array([[1., 2.], [3., 5.]]), axis=0, keepdims=True),
    }


RANDOM = {"randint", "normal", "uniform_scalar"}

"""The mx.np function cases whose results MXNet 1.9.1 recorded (reference/numpy_func_fixtures.py runs them on
MXNet's `np`; tests/test_numpy_math.py compares dataflow's): one table for both sides. Each case makes one array;
the random ones are compared by dtype and shape only. No dataflow import here: the oracle's venv reads this file."""


def cases(np, onp):
    """{name: a function making the case's array} on the `np` module given (MXNet's or dataflow's)."""
    ints = onp.arange(6, dtype=onp.int32).reshape(2, 3)
    halves = [-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.25]
    i32 = lambda: np.array(ints, dtype="int32")  # noqa: E731 - a case's input, made fresh per call
    f32 = lambda: np.array(ints * 0.5 + 0.25)  # noqa: E731
    square = lambda: np.array([[4., 1.], [2., 3.]])  # noqa: E731
    spd = lambda: np.array([[4., 1.], [1., 3.]])  # noqa: E731
    return {
        # dtypes where MXNet differs from NumPy
        "cumsum_int32": lambda: np.cumsum(i32()),
        "cumsum_int32_axis": lambda: np.cumsum(i32(), axis=1),
        "cumsum_bool": lambda: np.cumsum(i32() > 2),
        "cumsum_float64_dtype": lambda: np.cumsum(f32(), dtype="float64"),
        "std_int32": lambda: np.std(i32()),
        "var_int32_axis": lambda: np.var(i32(), axis=0),
        "std_float_ddof": lambda: np.std(f32(), ddof=1),
        "average_int32": lambda: np.average(i32()),
        "sqrt_int32": lambda: np.sqrt(i32()),
        "rint_halves": lambda: np.rint(np.array(halves)),
        "around_halves": lambda: np.around(np.array(halves)),
        "around_decimals": lambda: np.around(np.array(halves) * 10, -1),
        "einsum_int32": lambda: np.einsum("ij->j", i32()),
        "einsum_matmul": lambda: np.einsum("ij,kj->ik", f32(), f32()),
        "tensordot": lambda: np.tensordot(f32(), f32().T, axes=1),
        "trace_int32": lambda: np.trace(i32()),
        "tril_int32": lambda: np.tril(i32()),
        "array_of_numpy_int32_scalar": lambda: np.array(onp.int32(3)),
        "array_of_numpy_float64_scalar": lambda: np.array(onp.float64(3)),
        # index outputs: int64
        "argsort": lambda: np.argsort(f32()),
        "sort_int32": lambda: np.sort(np.array([[3, 1, 2]], dtype="int32")),
        "nonzero_rows": lambda: np.nonzero(i32())[0],
        "argwhere": lambda: np.argwhere(i32()),
        "unique": lambda: np.unique(np.array([3., 1., 3.])),
        "unique_counts": lambda: np.unique(np.array([3., 1., 3.]), return_counts=True)[1],
        "unique_inverse": lambda: np.unique(np.array([3., 1., 3.]), return_inverse=True)[1],
        "searchsorted": lambda: np.searchsorted(np.array([1., 2., 3.]), np.array([2.5, 0.])),
        # bool outputs
        "isnan": lambda: np.isnan(f32()),
        "any": lambda: np.any(i32()),
        "all_axis": lambda: np.all(i32(), axis=0),
        "logical_not_int32": lambda: np.logical_not(i32()),
        # Python's sign for mod
        "mod_negative": lambda: np.mod(np.array([-3., 3.]), np.array([2., -2.])),
        "mod_int32": lambda: np.mod(np.array([-3, 3], dtype="int32"), np.array([2, -2], dtype="int32")),
        "remainder_scalar": lambda: np.remainder(np.array([-3., 3.]), 2.),
        # manipulation
        "pad_int32": lambda: np.pad(i32(), ((1, 0), (0, 2))),
        "pad_reflect": lambda: np.pad(f32(), ((1, 1), (2, 1)), mode="reflect"),
        "roll": lambda: np.roll(f32(), 1),
        "flip_axis": lambda: np.flip(f32(), 1),
        "tile": lambda: np.tile(i32(), (2, 1)),
        "repeat": lambda: np.repeat(f32(), 2, axis=0),
        "swapaxes": lambda: np.swapaxes(f32(), 0, 1),
        "split_second": lambda: np.split(f32(), [1], axis=1)[1],
        "hstack": lambda: np.hstack([f32(), f32()]),
        "diag": lambda: np.diag(f32()),
        "diff": lambda: np.diff(f32()),
        # linalg
        "inv": lambda: np.linalg.inv(square()),
        "det": lambda: np.linalg.det(square()),
        "slogdet_logdet": lambda: np.linalg.slogdet(square())[1],
        "cholesky": lambda: np.linalg.cholesky(spd()),
        "eigh_values": lambda: np.linalg.eigh(spd())[0],
        "svd_values": lambda: np.linalg.svd(np.array([[1., 2., 3.], [4., 5., 6.]]))[1],
        "svd_v_shape": lambda: np.linalg.svd(np.array([[1., 2., 3.], [4., 5., 6.]]))[2],
        "norm_fro": lambda: np.linalg.norm(square()),
        # random: dtype and shape
        "choice": lambda: np.random.choice(5, 3),
        "choice_p": lambda: np.random.choice(5, 3, p=np.array([.1, .2, .3, .2, .2])),
        "choice_without_replacement": lambda: np.random.choice(5, 3, replace=False),
        "multinomial": lambda: np.random.multinomial(5, [0.2, 0.8], size=(3,)),
        "gamma": lambda: np.random.gamma(2., 1., size=(2,)),
        "beta": lambda: np.random.beta(2., 3., size=(2,)),
        "exponential": lambda: np.random.exponential(size=(2,)),
        "lognormal": lambda: np.random.lognormal(size=(2,)),
        "logistic": lambda: np.random.logistic(size=(2,)),
    }


SIGN_AMBIGUOUS = {"svd_v_shape"}     # singular vectors' signs are LAPACK's choice: compared by dtype and shape
RANDOM = {"choice", "choice_p", "choice_without_replacement", "multinomial", "gamma", "beta", "exponential",
          "lognormal", "logistic"}

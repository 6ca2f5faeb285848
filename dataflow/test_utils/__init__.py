"""`mx.test_utils`: MXNet's helpers for writing tests, with MXNet 1.9.1's names, signatures and behaviour.

- `tolerance`: default context and dtype, tolerances per dtype (`get_rtol`, `get_atol`, `effective_dtype`)
- `compare`: `assert_almost_equal` and relatives, `same`, `assert_exception`, `retry`, `environment`, `np_reduce`
- `data`: random arrays and shapes (`rand_ndarray`, `rand_shape_nd`), `DummyIter`, `verify_generator`
- `sparse`: random sparse arrays (`rand_sparse_ndarray`, `create_sparse_array`); `rand_ndarray(stype=...)` uses them
- `symbolic`: `check_symbolic_forward`/`backward`, `check_numeric_gradient`, `check_consistency`, `simple_forward`
- here: `use_np`, `getenv`, `setenv` (from `util`, as MXNet re-exports them), `is_op_runnable`, `has_tvm_ops`

The comparisons (`assert_almost_equal`, `same`, ...) take sparse arrays as their dense values; the symbolic checks
take sparse arguments and sparse gradient storage types (`grad_stype_dict`, `grad_stypes`).
"""
from .compare import (almost_equal, assert_allclose, assert_almost_equal, assert_almost_equal_ignore_nan,  # noqa: F401
                      assert_almost_equal_with_err, assert_exception, assertRaises, checkShapes, collapse_sum_like,
                      compare_ndarray_tuple, environment, locationError, np_reduce, retry, same, same_array,
                      same_symbol_structure)
from .data import (DummyIter, assign_each, assign_each2, chi_square_check, create_2d_tensor,  # noqa: F401
                   create_vector, discard_stderr, download, gen_buckets_probs_with_ppf,
                   get_identity_mat, get_identity_mat_batch, is_aarch64_run, is_cd_run, list_gpus, mean_check,
                   new_matrix_with_real_eigvals_2d, new_matrix_with_real_eigvals_nd, new_orthonormal_matrix_2d,
                   new_sym_matrix_with_real_eigvals_2d, new_sym_matrix_with_real_eigvals_nd, rand_coord_2d,
                   rand_ndarray, rand_shape_2d, rand_shape_3d, rand_shape_nd, random_arrays,
                   random_sample, random_uniform_arrays, var_check, verify_generator)
from .sparse import (create_sparse_array, create_sparse_array_zd, rand_sparse_ndarray,  # noqa: F401
                     shuffle_csr_column_indices)
from .symbolic import (check_consistency, check_numeric_gradient, check_speed, check_symbolic_backward,  # noqa: F401
                       check_symbolic_forward, numeric_grad, simple_forward)
from .tolerance import (default_atols, default_context, default_dtype, default_numeric_eps,  # noqa: F401
                        default_rtols, effective_dtype, get_atol, get_etol, get_rtol, get_tolerance, get_tols,
                        set_default_context)
from ..util import getenv, setenv, use_np  # noqa: F401  (MXNet's test_utils re-exports these)


def has_tvm_ops():
    """False: no operator here is built by TVM (MXNet: True only when compiled with USE_TVM_OP)."""
    return False


def is_op_runnable():
    """True: every operator runs on every context here (MXNet: False only for TVM ops on old GPUs)."""
    return True

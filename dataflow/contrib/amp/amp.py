"""MXNet's `mx.contrib.amp.amp` module: AMP's state (off) and its entry points, which raise.

MXNet's `init()` rewraps every op front end to cast its inputs to float16 (or bfloat16) or float32 by the lists in
`lists/`, and `init_trainer`/`scale_loss`/`unscale` add dynamic loss scaling to a Gluon Trainer; the `convert_*`
functions rewrite a Symbol, a model's params or a HybridBlock the same way. dataflow does none of this yet, and
doing nothing silently would leave a float32 model that its author believes runs in float16: each function raises
MXNetError naming itself instead. `_amp_initialized` stays False, which is what code that only asks sees.
"""
import numpy as np

from ...base import MXNetError
from . import lists

__all__ = ["init", "init_trainer", "scale_loss", "unscale", "convert_model", "convert_hybrid_block",
           "list_lp16_ops", "list_fp32_ops", "list_lp16_fp32_ops", "list_conditional_fp32_ops",
           "list_widest_type_cast", "list_loss_output_functions", "list_lp16_use_fp32_params", "convert_symbol"]

# MXNet's bfloat16 stand-in for numpy (a 16-bit record), which its AMP functions accept as target_dtype
bfloat16 = np.dtype([("bfloat16", np.uint16)])

_amp_initialized = False            # MXNet's module state; init() never sets it here
_amp_loss_scale_initialized = False
_loss_scaler = None


def _unsupported(what):
    raise MXNetError("mx.contrib.amp.%s: automatic mixed precision (AMP) is not supported by dataflow yet; run the "
                     "model in float32, or cast it explicitly (block.cast('float16'), multi_precision=True in the "
                     "optimizer)" % what)


def init(target_dtype="float16", target_precision_ops=None, conditional_fp32_ops=None, fp32_ops=None):
    """Initialize AMP (MXNet: before model creation). Raises: AMP is not supported by dataflow yet."""
    _unsupported("init")


def init_trainer(optimizer_or_trainer):
    """Add dynamic loss scaling to a Gluon Trainer. Raises: AMP is not supported by dataflow yet."""
    _unsupported("init_trainer")


def scale_loss(loss, optimizer_or_trainer):
    """Context manager scaling the loss for AMP's loss scaler. Raises: AMP is not supported by dataflow yet."""
    _unsupported("scale_loss")


def unscale(optimizer_or_trainer):
    """Unscale a Trainer's gradients by AMP's loss scale. Raises: AMP is not supported by dataflow yet."""
    _unsupported("unscale")


def convert_symbol(sym, target_dtype="float16", target_dtype_ops=None, fp32_ops=None, conditional_fp32_ops=None,
                   excluded_sym_names=None, data_names=None, cast_optional_params=False):
    """Insert AMP casts into a Symbol. Raises: AMP is not supported by dataflow yet."""
    _unsupported("convert_symbol")


def convert_model(sym, arg_params, aux_params, target_dtype="float16", target_dtype_ops=None, fp32_ops=None,
                  conditional_fp32_ops=None, excluded_sym_names=None, cast_optional_params=False):
    """convert_symbol plus the params cast to match. Raises: AMP is not supported by dataflow yet."""
    _unsupported("convert_model")


def convert_hybrid_block(block, target_dtype="float16", target_dtype_ops=None, fp32_ops=None,
                         conditional_fp32_ops=None, excluded_sym_names=None, ctx=None, cast_optional_params=False):
    """A HybridBlock converted for AMP. Raises: AMP is not supported by dataflow yet."""
    _unsupported("convert_hybrid_block")


def convert_bucketing_module(bucketing_mod, target_dtype="float16", target_dtype_ops=None, fp32_ops=None,
                             conditional_fp32_ops=None, excluded_sym_names=None, cast_optional_params=False):
    """A BucketingModule converted for AMP. Raises: AMP is not supported by dataflow yet."""
    _unsupported("convert_bucketing_module")


# ---- the op lists ------------------------------------------------------------------------------------------------
def _list(target_dtype, fp16_name, bf16_name):
    """MXNet's list `fp16_name` (float16) or `bf16_name` (bfloat16) from `lists/`; MXNet asserts on other dtypes.
    The long lists (several hundred op names) are not recorded here: asking for one raises."""
    if target_dtype in ("float16", np.float16):
        module, name = lists.symbol_fp16, fp16_name
    elif target_dtype == bfloat16 or target_dtype == "bfloat16":
        module, name = lists.symbol_bf16, bf16_name
    else:
        raise MXNetError("mx.contrib.amp: target_dtype must be float16 or bfloat16, got %r" % (target_dtype,))
    if name is None:
        return None
    if not hasattr(module, name):
        raise MXNetError("mx.contrib.amp: the list %s.%s (MXNet's per-op AMP casting table) is not recorded in "
                         "dataflow, which does not support automatic mixed precision yet" % (module.__name__, name))
    return getattr(module, name)


def list_lp16_ops(target_dtype):
    """The ops AMP runs in float16/bfloat16."""
    return _list(target_dtype, "FP16_FUNCS", "BF16_FUNCS")


def list_fp32_ops(target_dtype):
    """The ops AMP runs in float32 (not recorded: raises)."""
    return _list(target_dtype, "FP32_FUNCS", "FP32_FUNCS")


def list_lp16_fp32_ops(target_dtype):
    """The ops that run in either precision (bfloat16's list only; float16's is not recorded)."""
    return _list(target_dtype, "FP16_FP32_FUNCS", "BF16_FP32_FUNCS")


def list_conditional_fp32_ops(target_dtype):
    """(op, param, values) triples: the op runs in float32 when its param takes one of the values."""
    return _list(target_dtype, "CONDITIONAL_FP32_FUNCS", "CONDITIONAL_FP32_FUNCS")


def list_widest_type_cast(target_dtype):
    """The ops whose inputs AMP casts to the widest input type (not recorded: raises)."""
    return _list(target_dtype, "WIDEST_TYPE_CASTS", "WIDEST_TYPE_CASTS")


def list_loss_output_functions(target_dtype):
    """The loss output ops AMP wraps to apply its loss scale."""
    return _list(target_dtype, "LOSS_OUTPUT_FUNCTIONS", "LOSS_OUTPUT_FUNCTIONS")


def list_lp16_use_fp32_params(target_dtype):
    """bfloat16 ops whose named params stay float32 (None for float16, as in MXNet)."""
    return _list(target_dtype, None, "BF16_USE_FP32_PARAMS")

"""MXNet 1.9.1's bfloat16 AMP lists that are short; see lists/__init__.py for the ones not recorded."""

# ops AMP always runs in bfloat16
BF16_FUNCS = ["Convolution", "FullyConnected"]

# ops that run in bfloat16 or float32, whichever their inputs are
BF16_FP32_FUNCS = ["abs", "_add", "BatchNorm", "BatchNormWithReLU", "clip", "Concat", "concat", "LRN", "Pooling",
                   "relu", "shuffle", "_shuffle", "sqrt", "square", "tanh"]

# bfloat16 ops whose listed inputs stay float32 ('' is the data input, which is cast)
BF16_USE_FP32_PARAMS = {"BatchNormWithReLU": ["", "gamma", "beta", "moving_mean", "moving_var"],
                        "BatchNorm": ["", "gamma", "beta", "moving_mean", "moving_var"]}

# (op, param, values): the op runs in float32 when param is one of values
CONDITIONAL_FP32_FUNCS = [("Activation", "act_type", ["softrelu"]), ("LeakyReLU", "act_type", ["elu", "selu"])]

# loss outputs AMP wraps with its loss scale
LOSS_OUTPUT_FUNCTIONS = ["SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput",
                         "MAERegressionOutput"]

"""MXNet 1.9.1's float16 AMP lists that are short; see lists/__init__.py for the ones not recorded."""

# ops AMP always runs in float16
FP16_FUNCS = ["Convolution", "Deconvolution", "FullyConnected", "RNN"]

# (op, param, values): the op runs in float32 when param is one of values
CONDITIONAL_FP32_FUNCS = [("Activation", "act_type", ["softrelu"]), ("LeakyReLU", "act_type", ["elu", "selu"])]

# loss outputs AMP wraps with its loss scale
LOSS_OUTPUT_FUNCTIONS = ["SoftmaxOutput", "LinearRegressionOutput", "LogisticRegressionOutput",
                         "MAERegressionOutput"]

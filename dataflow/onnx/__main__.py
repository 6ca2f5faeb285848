"""`python -m dataflow.onnx export model-symbol.json model-0000.params --shape 1,3,224,224 [--output F]`.

One `--shape` per data input, in the model's input order; `--dtype` likewise (default float32). The output
defaults to the symbol file's prefix with `.onnx` (`model-symbol.json` -> `model.onnx`)."""
import argparse
import sys


def _shape(text):
    try:
        return tuple(int(d) for d in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("a shape is comma-separated integers, e.g. 1,3,224,224; got %r"
                                         % text) from None


def _parser():
    parser = argparse.ArgumentParser(prog="python -m dataflow.onnx", description="ONNX export and inspection.")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="export an MXNet checkpoint to an ONNX file (opset 13)")
    export.add_argument("symbol", help="the -symbol.json file")
    export.add_argument("params", help="the .params file")
    export.add_argument("--shape", type=_shape, action="append", required=True,
                        help="one data input's shape, e.g. 1,3,224,224; repeat for several inputs")
    export.add_argument("--dtype", action="append", help="one data input's dtype (default float32); repeatable")
    export.add_argument("--output", "-o", help="the .onnx file to write")
    export.add_argument("--dynamic", action="store_true", help="leave every input dimension symbolic")
    info = commands.add_parser("info", help="print an ONNX file's inputs and outputs")
    info.add_argument("model", help="the .onnx file")
    return parser


def main(argv=None):
    args = _parser().parse_args(argv)
    from . import export_model, get_model_metadata
    if args.command == "info":
        meta = get_model_metadata(args.model)
        for name, shape, _ in meta["input_tensor_data"]:
            print("input  %s %s" % (name, shape))
        for name, shape in meta["output_tensor_data"]:
            print("output %s %s" % (name, shape))
        return 0
    import numpy as np
    output = args.output or args.symbol.rsplit("-symbol.json", 1)[0].rsplit(".json", 1)[0] + ".onnx"
    dtypes = [np.dtype(d) for d in (args.dtype or ["float32"])]
    if len(dtypes) == 1:
        dtypes = dtypes * len(args.shape)
    try:
        path = export_model(args.symbol, args.params, args.shape, dtypes, onnx_file_path=output,
                            dynamic=args.dynamic)
    except (ValueError, RuntimeError) as err:
        print("error: %s" % err, file=sys.stderr)
        return 1
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

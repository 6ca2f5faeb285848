"""`python -m bench` command line (see bench/README.md)."""
import argparse
import os

from bench import spec

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = ("numpy", "mxnet", "torch", "jax")


def parse(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m bench",
        description="dataflow's workloads side by side with numpy, MXNet, PyTorch and JAX (each peer in its own "
                    "interpreter, repeats interleaved). Prints a table, writes a JSON file and a PNG chart.")
    ap.add_argument("--workloads", default=",".join(spec.WORKLOAD_NAMES),
                    help="comma-separated, from: %s (default: all)" % ", ".join(spec.WORKLOAD_NAMES))
    level = ap.add_mutually_exclusive_group()
    level.add_argument("--quick", action="store_true", help="fewer calls and repeats: a fast pass")
    level.add_argument("--smoke", action="store_true",
                       help="tiny sizes, one repeat, no peers, dataflow in this process: checks that all runs")
    ap.add_argument("--repeat", type=int, help="timed blocks per variant (default: 7, --quick 3, --smoke 1)")
    ap.add_argument("--peers", default=None,
                    help="comma-separated peers to run, from %s (default: all; with --smoke: none); "
                         "'none' for none" % ", ".join(PEERS))
    for impl, default in (("mxnet", "/tmp/mxvenv/bin/python"), ("torch", "/tmp/torchvenv/bin/python"),
                          ("jax", "/tmp/jaxvenv/bin/python")):
        ap.add_argument("--%s-python" % impl, metavar="PATH",
                        help="the interpreter that has %s (default: $BENCH_%s_PYTHON, else %s if it exists)"
                             % (impl, impl.upper(), default))
    ap.add_argument("--in-process", action="store_true",
                    help="run dataflow in this interpreter instead of one per workload (the default with --smoke)")
    ap.add_argument("--no-blas-variant", action="store_true",
                    help="do not rerun the BLAS-bound workloads with OPENBLAS_CORETYPE changed")
    ap.add_argument("--gap", type=float, default=0.02, help="seconds of pause between blocks (default 0.02)")
    ap.add_argument("--json", default=os.path.join(HERE, "results", "latest.json"), help="where the JSON goes")
    ap.add_argument("--png", default=os.path.join(HERE, "results", "latest.png"),
                    help="where the chart goes ('' for none)")
    ap.add_argument("--update-readme", action="store_true",
                    help="write this run's figures into bench/README.md (between its markers)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument("--quiet", action="store_true", help="no table on the terminal")
    args = ap.parse_args(argv)
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in workloads if w not in spec.WORKLOADS]
    if unknown:
        ap.error("unknown workload(s) %s; the workloads are %s" % (", ".join(unknown), ", ".join(spec.WORKLOADS)))
    args.workload_list = workloads
    args.level = "smoke" if args.smoke else "quick" if args.quick else "default"
    if args.peers is None:
        peers = [] if args.smoke else list(PEERS)
    elif args.peers.strip().lower() == "none":
        peers = []
    else:
        peers = [p.strip() for p in args.peers.split(",") if p.strip()]
        bad = [p for p in peers if p not in PEERS]
        if bad:
            ap.error("unknown peer(s) %s; the peers are %s" % (", ".join(bad), ", ".join(PEERS)))
    args.peer_list = peers
    if args.repeat is not None and args.repeat < 1:
        ap.error("--repeat must be at least 1")
    return args


def main(argv=None):
    args = parse(argv)
    from bench import harness, report
    pythons = {}
    for impl in ("mxnet", "torch", "jax"):
        pythons[impl] = getattr(args, "%s_python" % impl) or os.environ.get("BENCH_%s_PYTHON" % impl.upper())
    run = harness.Run(args.workload_list, level=args.level, repeat=args.repeat, peer_pythons=pythons,
                      peers_wanted=args.peer_list, in_process=args.in_process or args.smoke,
                      blas_variant_on=not args.no_blas_variant, gap=args.gap, progress=not args.no_progress)
    results = run.run()
    png_note = None
    if args.png:
        png, png_note = report.chart(results, args.png)
        results["chart"] = png
        if png_note:
            results["chart_note"] = png_note
    report.write_json(results, args.json)
    if not args.quiet:
        print(report.text(results))
        print("\nJSON: %s" % args.json)
        print("chart: %s" % (results.get("chart") or png_note or "not asked for"))
    if args.update_readme:
        path = os.path.join(HERE, "README.md")
        report.update_readme(results, path)
        if not args.quiet:
            print("README: figures written to %s" % path)
    return 0

"""Turning a run's results into the terminal tables, the goals, the JSON file, the PNG chart and the README table."""
import json
import os

from bench import spec

MiB = 1 << 20


# -- formatting --------------------------------------------------------------------------------------------------------
def fmt_time(t):
    if t is None:
        return "-"
    if not isinstance(t, (int, float)):
        return str(t)
    if t == 0:
        return "0"
    if t < 1e-3:
        return "%.1f us" % (t * 1e6)
    if t < 1:
        return "%.2f ms" % (t * 1e3)
    return "%.2f s" % t


def fmt_mb(b):
    return "-" if b is None else "%.1f" % (b / 1e6)


def fmt_ratio(r):
    return "-" if r is None else "%.2fx" % r


def _table(header, rows):
    rows = [[str(c) for c in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(header)]
    line = "  ".join(h.ljust(w) for h, w in zip(header, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    for r in rows:
        out.append("  ".join(c.ljust(w) for c, w in zip(r, widths)))
    return "\n".join(out)


def _md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


# -- pairing our rows with the peers' ------------------------------------------------------------------------------
def ours_variant_for(workload, variant):
    """Which of our variants a peer's `variant` row is compared with."""
    v = variant.lower()
    if workload == "inception":
        return "training" if v.startswith("training") else "inference"
    if workload == "mlp1":
        return "imperative" if v in ("imperative", "eager") else "hybridized"
    if workload == "elemwise10":
        return "imperative" if v in ("imperative", "eager") else "symbol"
    if workload in ("mlp64", "mlp1024"):
        return "hybridized"
    if workload == "fcnet-train":
        return "fwd+bwd"
    if workload == "bind":
        return variant
    if workload == "lstm":
        return "fwd+bwd" if "bwd" in v or "training" in v else "forward"
    if workload == "zoo":
        return spec.zoo_base_variant(variant)
    return None


def _ours(wl, variant, env=""):
    for row in wl["rows"]:
        if row["impl"] == "dataflow" and row["variant"] == variant and row["env"] == env:
            return row
    return None


def ratio_vs_ours(name, wl, row):
    """dataflow's median / this row's median (below 1: dataflow is faster)."""
    if row["impl"] == "dataflow" or row.get("median_s") is None:
        return None
    ours = _ours(wl, ours_variant_for(name, row["variant"]) or "", row["env"]) or \
        _ours(wl, ours_variant_for(name, row["variant"]) or "")
    if ours is None or ours.get("median_s") is None:
        return None
    return ours["median_s"] / row["median_s"]


# -- memory ---------------------------------------------------------------------------------------------------------
def memory_rows(results):
    """[{graph, mode, naive, planned, lower_bound, mxnet_mb, mxnet_source}] of the memory workload."""
    wl = results["workloads"].get("memory")
    if not wl:
        return []
    ours = (wl["extras"].get("dataflow") or {}).get("memory", {})
    mx = (wl["extras"].get("mxnet") or {}).get("memory", {})
    out = []
    for graph, modes in ours.items():
        for mode, st in modes.items():
            mxnet_mb, source = None, None
            if mx.get(graph, {}).get(mode, {}).get("plan_mb") is not None:
                mxnet_mb, source = mx[graph][mode]["plan_mb"], "measured"
            elif (graph, mode) in spec.MXNET_KNOWN_PLAN_MB and results["config"]["level"] != "smoke":
                mxnet_mb, source = spec.MXNET_KNOWN_PLAN_MB[graph, mode], "issue figure"
            out.append(dict(graph=graph, mode=mode, naive=st["naive"], planned=st["planned"],
                            lower_bound=st["lower_bound"], mxnet_mb=mxnet_mb, mxnet_source=source))
    return out


def _vs_mxnet_plan(planned, mxnet_mb):
    """MXNet prints its plan as whole MiB rounded down: its bytes lie in [N, N+1) MiB."""
    if mxnet_mb is None:
        return None, "MXNet's plan not known"
    if planned <= mxnet_mb * MiB:
        return True, "planned %.1f MiB <= MXNet %d MiB" % (planned / MiB, mxnet_mb)
    if planned >= (mxnet_mb + 1) * MiB:
        return False, "planned %.1f MiB > MXNet %d MiB" % (planned / MiB, mxnet_mb)
    return None, "planned %.2f MiB within MXNet's rounding (%d..%d MiB)" % (planned / MiB, mxnet_mb, mxnet_mb + 1)


# -- goals -----------------------------------------------------------------------------------------------------------
def goals(results):
    out = []
    wls = results["workloads"]
    use_ref = results["config"]["level"] != "smoke"       # the figures are for the full sizes
    for g in spec.GOALS:
        wl = wls.get(g["workload"])
        if not wl:
            continue
        envs = sorted({r["env"] for r in wl["rows"] if r["impl"] == "dataflow" and r["variant"] == g["ours"]})
        for env in envs:
            ours = _ours(wl, g["ours"], env)
            if ours is None or ours.get("median_s") is None:
                continue
            comp, comp_label, source = None, None, "measured"
            pool = _comparable_rows(wl, env)
            if g["vs"] == "best-peer":
                pool = [r for r in pool if "floor" not in r["variant"]]
                if pool:
                    best = min(pool, key=lambda r: r["median_s"])
                    comp, comp_label = best["median_s"], _row_label(best, env)
            else:
                for impl, variant in g["vs"]:
                    hit = [r for r in pool if r["impl"] == impl and r["variant"] == variant]
                    if hit:
                        comp, comp_label = hit[0]["median_s"], _row_label(hit[0], env)
                        break
            if comp is None and g["ref"] is not None and use_ref:
                comp, source = g["ref"], "issue figure (peer not run here)"
                comp_label = (g["vs"] if isinstance(g["vs"], str) else " ".join(g["vs"][0]))
            if comp is None:
                out.append(dict(id=g["id"], text=g["text"], env=env, ours_s=ours["median_s"], vs=None,
                                vs_s=None, ratio=None, bound=g["ratio"], met=None, source="not measured"))
                continue
            ratio = ours["median_s"] / comp
            out.append(dict(id=g["id"], text=g["text"], env=env, ours_s=ours["median_s"], vs=comp_label, vs_s=comp,
                            ratio=ratio, bound=g["ratio"], met=ratio <= g["ratio"], source=source))
    for m in memory_rows(results):
        met, why = _vs_mxnet_plan(m["planned"], m["mxnet_mb"])
        out.append(dict(id="memory-%s-%s-mxnet" % (m["graph"], m["mode"]),
                        text="memory %s %s: planned <= MXNet's plan" % (m["graph"], m["mode"]), env="",
                        ours_s=None, vs="mxnet plan", vs_s=None, ratio=None, bound=None, met=met,
                        source=(m["mxnet_source"] or "not measured") + "; " + why))
        r = m["planned"] / m["lower_bound"] if m["lower_bound"] else None
        out.append(dict(id="memory-%s-%s-bound" % (m["graph"], m["mode"]),
                        text="memory %s %s: planned <= %.2fx lower bound" % (m["graph"], m["mode"],
                                                                           spec.MEMORY_BOUND_RATIO),
                        env="", ours_s=None, vs="lower bound", vs_s=None, ratio=r, bound=spec.MEMORY_BOUND_RATIO,
                        met=None if r is None else r <= spec.MEMORY_BOUND_RATIO, source="measured"))
    cold = wls.get("coldstart")
    if cold:
        for variant, bound in spec.COLDSTART_GOALS.items():
            row = _ours(cold, variant)
            if row is None or row.get("median_s") is None:
                continue
            out.append(dict(id="coldstart-" + variant.replace(" ", "-"), env="",
                            text="coldstart %s <= %.1f s" % (variant, bound), ours_s=row["median_s"], vs="bound",
                            vs_s=bound, ratio=row["median_s"] / bound, bound=1.0, met=row["median_s"] <= bound,
                            source="measured"))
    return out


def _comparable_rows(wl, env):
    """The peers' rows to hold our row of environment `env` against: each peer's rows in that environment where
    it ran there (numpy, under the BLAS variant), else its rows in the default environment."""
    rows = [r for r in wl["rows"] if r["impl"] != "dataflow" and r.get("median_s") is not None]
    in_env = {r["impl"] for r in rows if r["env"] == env}
    return [r for r in rows if r["env"] == (env if r["impl"] in in_env else "")]


def _row_label(row, env):
    label = "%s %s" % (row["impl"], row["variant"])
    return label + (" (default env)" if env and row["env"] != env else "")


def _met(m):
    return {True: "yes", False: "no", None: "?"}[m]


# -- terminal --------------------------------------------------------------------------------------------------------
def text(results):
    parts = []
    m = results["machine"]
    parts.append("dataflow bench  %s  %s (%s cores)  load %s -> %s  level=%s repeat=%d  %.0f s"
                 % (m["date"], m["cpu_model"], m["cores"], m["load_average_start"], m.get("load_average_end"),
                    results["config"]["level"], results["config"]["repeat"], results["duration_s"]))
    parts.append("BLAS: " + blas_line(results))
    parts.append("peers: " + peers_line(results))
    header = ["workload", "impl", "variant", "env", "median", "min", "first call", "numba compile", "calls",
              "dataflow/this"]
    rows = []
    for name, wl in results["workloads"].items():
        if name in ("memory", "coldstart"):
            continue
        for r in wl["rows"]:
            rows.append([name, r["impl"], r["variant"], r["env"] or "", fmt_time(r.get("median_s")),
                         fmt_time(r.get("min_s")), fmt_time(r.get("first_call_s")), fmt_time(r.get("numba_compile_s")),
                         r["calls"], fmt_ratio(ratio_vs_ours(name, wl, r)) if "failed" not in r else r["failed"]])
    if rows:
        parts.append("\nTime per call (median and min over repeats; first call = compile/trace/cache load):")
        parts.append(_table(header, rows))
    mem = memory_rows(results)
    if mem:
        parts.append("\nMemory plan (MB = 1e6 bytes; MXNet's own figure is whole MiB, rounded down):")
        parts.append(_table(["graph", "mode", "naive MB", "planned MB", "lower bound MB", "planned/bound",
                             "MXNet plan MiB", "source"],
                            [[x["graph"], x["mode"], fmt_mb(x["naive"]), fmt_mb(x["planned"]), fmt_mb(x["lower_bound"]),
                              fmt_ratio(x["planned"] / x["lower_bound"] if x["lower_bound"] else None),
                              "-" if x["mxnet_mb"] is None else x["mxnet_mb"], x["mxnet_source"] or "-"]
                             for x in mem]))
    cold = results["workloads"].get("coldstart")
    if cold and cold["rows"]:
        parts.append("\nCold start (fresh interpreter to first MLP result):")
        parts.append(_table(["impl", "variant", "wall median", "wall min", "cpu", "import", "first call",
                             "numba compile", "note"],
                            [[r["impl"], r["variant"], fmt_time(r["median_s"]), fmt_time(r["min_s"]),
                              fmt_time(r.get("cpu_s")), fmt_time(r["import_s"]), fmt_time(r["first_call_s"]),
                              fmt_time(r["numba_compile_s"]), r["note"]] for r in cold["rows"]]))
    notes = [(n, x) for n, wl in results["workloads"].items() for x in wl["notes"]]
    if notes:
        parts.append("\nNotes:")
        parts += ["  %s: %s" % nx for nx in notes]
    g = results.get("goals") or []
    if g:
        parts.append("\nGoals (median per call):")
        parts.append(_table(["goal", "env", "dataflow", "vs", "ratio", "bound", "met", "source"],
                            [[x["text"], x["env"], fmt_time(x["ours_s"]),
                              "%s %s" % (x["vs"] or "-", fmt_time(x["vs_s"]) if x["vs_s"] is not None else ""),
                              fmt_ratio(x["ratio"]), "-" if x["bound"] is None else "%.2fx" % x["bound"],
                              _met(x["met"]), x["source"]] for x in g]))
    return "\n".join(parts)


def blas_line(results):
    seen = []
    for key, info in results.get("runners", {}).items():
        for lib in (info or {}).get("blas") or []:
            if lib.get("user_api") != "blas" or not key.startswith(("dataflow", "numpy", "mxnet")):
                continue
            where = os.path.basename(os.path.dirname(lib.get("filepath") or "")) or "?"
            s = "%s %s %s from %s (kernel %s, %s threads)" % (key, lib.get("internal_api"), lib.get("version"), where,
                                                            lib.get("architecture"), lib.get("num_threads"))
            if s not in seen:
                seen.append(s)
        if key.startswith("mxnet") and info.get("features"):
            seen.append("mxnet features %s" % ",".join(info["features"]))
        if key.startswith("torch") and info.get("config"):
            seen.append("torch %s" % ", ".join(info["config"]))
        if key.startswith("jax"):
            seen.append("jax XLA:%s (its own Eigen/oneDNN kernels)" % (info.get("backend") or "?"))
    return "; ".join(seen) or "unknown (install threadpoolctl: pip install -e '.[bench]')"


def peers_line(results):
    out = []
    for impl, st in results["peers"].items():
        if st["status"] == "ok":
            v = ((st.get("info") or {}).get("versions") or {}).get(impl, "")
            out.append("%s %s (%s)" % (impl, v, st["python"]))
        else:
            out.append("%s skipped: %s" % (impl, st["note"]))
    return "; ".join(out) or "none"


# -- files -----------------------------------------------------------------------------------------------------------
def write_json(results, path):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as fh:
        json.dump(results, fh, indent=1, sort_keys=False, default=str)
        fh.write("\n")


def chart(results, path):
    """A PNG of dataflow's median / each peer row's median, log scale (left of 1: dataflow faster); the goals'
    bounds as black ticks. Returns the path, or the reason there is none."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None, "matplotlib is not installed (pip install -e '.[bench]')"
    bars = []
    bounds = {}
    for g in spec.GOALS:
        if isinstance(g["vs"], list):
            for impl, variant in g["vs"]:
                bounds[(g["workload"], impl, variant)] = g["ratio"]
    for name, wl in results["workloads"].items():
        for r in wl["rows"]:
            if r["env"]:
                continue
            ratio = ratio_vs_ours(name, wl, r)
            if ratio is None:
                continue
            label = "%s: dataflow %s / %s %s" % (name, ours_variant_for(name, r["variant"]), r["impl"], r["variant"])
            bars.append((label, ratio, r["impl"], bounds.get((name, r["impl"], r["variant"]))))
    if not bars:
        return None, "no peer rows to compare"
    colors = {"numpy": "#4c72b0", "mxnet": "#dd8452", "torch": "#c44e52", "jax": "#55a868"}
    fig, ax = plt.subplots(figsize=(10, 0.32 * len(bars) + 1.6))
    ys = list(range(len(bars)))[::-1]
    ax.barh(ys, [b[1] for b in bars], color=[colors.get(b[2], "#8172b3") for b in bars], height=0.7)
    for y, (_, ratio, _, bound) in zip(ys, bars):
        ax.text(ratio * 1.03, y, "%.2f" % ratio, va="center", fontsize=7)
        if bound is not None:
            ax.plot([bound, bound], [y - 0.4, y + 0.4], color="black", lw=2)
    ax.set_yticks(ys)
    ax.set_yticklabels([b[0] for b in bars], fontsize=7)
    ax.set_xscale("log")
    ax.axvline(1.0, color="gray", lw=1, ls="--")
    ax.set_xlabel("dataflow time / peer time (median per call; < 1: dataflow faster; black tick: goal)")
    m = results["machine"]
    ax.set_title("dataflow vs peers, %s, %s, load %s" % (m["date"][:10], m["cpu_model"], m["load_average_start"]),
                 fontsize=9)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path, None


# -- README ----------------------------------------------------------------------------------------------------------
README_START = "<!-- bench:figures:start -->"
README_END = "<!-- bench:figures:end -->"


def markdown(results):
    m = results["machine"]
    lines = ["Measured %s on %s (%d cores, %s), commit %s; load average %s at the start, %s at the end; "
             "level `%s`, %d repeats interleaved, %.0f s in all."
             % (m["date"], m["cpu_model"], m["cores"], _gib(m["memory_bytes"]), m.get("commit"),
                m["load_average_start"], m.get("load_average_end"), results["config"]["level"],
                results["config"]["repeat"], results["duration_s"]),
             "", "Peers: " + peers_line(results) + ".", "", "BLAS: " + blas_line(results) + ".", "",
             "Threading environment: `%s`." % (" ".join("%s=%s" % kv for kv in m["env"].items()) or "none set"), ""]
    g = results.get("goals") or []
    if g:
        goal_rows = [[x["text"], x["env"], fmt_time(x["ours_s"]),
                      "%s %s" % (x["vs"] or "-", fmt_time(x["vs_s"]) if x["vs_s"] else ""), fmt_ratio(x["ratio"]),
                      "-" if x["bound"] is None else "%.2fx" % x["bound"], _met(x["met"]), x["source"]] for x in g]
        lines += ["Goals (median per call; env: the BLAS variant's run):", "",
                  _md_table(["goal", "env", "dataflow", "vs", "ratio", "bound", "met", "source"], goal_rows), ""]
    rows = []
    for name, wl in results["workloads"].items():
        if name in ("memory", "coldstart"):
            continue
        for r in wl["rows"]:
            rows.append([name, r["impl"], r["variant"], r["env"] or "", fmt_time(r.get("median_s")),
                         fmt_time(r.get("min_s")), fmt_time(r.get("first_call_s")),
                         fmt_ratio(ratio_vs_ours(name, wl, r))])
    if rows:
        lines += [_md_table(["workload", "impl", "variant", "env", "median", "min", "first call", "dataflow/this"],
                            rows), ""]
    mem = memory_rows(results)
    if mem:
        lines += [_md_table(["graph", "mode", "naive MB", "planned MB", "lower bound MB", "planned/bound",
                             "MXNet plan MiB"],
                            [[x["graph"], x["mode"], fmt_mb(x["naive"]), fmt_mb(x["planned"]), fmt_mb(x["lower_bound"]),
                              fmt_ratio(x["planned"] / x["lower_bound"] if x["lower_bound"] else None),
                              "-" if x["mxnet_mb"] is None else "%s (%s)" % (x["mxnet_mb"], x["mxnet_source"])]
                             for x in mem]), ""]
    cold = results["workloads"].get("coldstart")
    if cold and cold["rows"]:
        lines += [_md_table(["coldstart", "variant", "wall median", "wall min", "import", "first call"],
                            [[r["impl"], r["variant"], fmt_time(r["median_s"]), fmt_time(r["min_s"]),
                              fmt_time(r["import_s"]), fmt_time(r["first_call_s"])] for r in cold["rows"]]), ""]
    notes = [(n, x) for n, wl in results["workloads"].items() for x in wl["notes"]]
    if notes:
        lines += ["Notes from the run:", ""] + ["- %s: %s" % nx for nx in notes] + [""]
    return "\n".join(lines)


def _gib(b):
    return "?" if not b else "%.0f GiB" % (b / (1 << 30))


def update_readme(results, path):
    """Replace the figures between the README's markers with this run's."""
    with open(path) as fh:
        text_ = fh.read()
    if README_START not in text_ or README_END not in text_:
        raise ValueError("%s has no %s ... %s markers" % (path, README_START, README_END))
    head, rest = text_.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    with open(path, "w") as fh:
        fh.write(head + README_START + "\n" + markdown(results) + "\n" + README_END + tail)

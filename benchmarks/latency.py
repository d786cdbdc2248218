"""Naive conversion vs effmod's deploy form, fp32 vs INT8, per variant and runtime.

For each variant (all eight by default: xxs, xs, s, s_conv and their ``_bn`` forms): export the official
graph as-is ("naive", fp32 and INT8), the deploy form fp32 and INT8 for onnx, tflite and executorch.
Two timings per artifact:
- *interleaved*: the forms of one runtime loaded in one fresh process and run in turn (same machine
  load for all three) -> the in-run ratios deploy/naive and int8/fp32;
- *alone*: ``effmod bench`` (one fresh process per artifact, the runtime's default settings, ORT spinning
  on) -> the cross-runtime ratio "best INT8 vs naive ONNX fp32" of issue #7, which no single process can
  measure fairly (runtimes' thread pools disturb each other).
Reports GMAC/s (MACs by torch's FLOP counter) against an estimated peak, XNNPACK partition counts, and
the reason for any artifact that fails to export or load. Writes benchmarks/results/latency.{json,md}.

    python benchmarks/latency.py [--variants efficientmod_xxs,...] [--calib DIR] [--threads 2] [--runs 40]

Weights: xxs uses the reference checkpoint from ../shared (the others have no public weights here and
run random-init; latency does not depend on the values, except where noted in a row's errors).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (FORMS, GOLDEN, OUT, ExportFailed, emit_table, export_form, goal_verdict,  # noqa: E402
                     machine_info, time_interleaved)

from effmod.pipeline.latency import bench  # noqa: E402
from effmod.deploy.graph_stats import count_macs  # noqa: E402
from effmod.models import create_model, list_models  # noqa: E402

TARGETS = ("onnx", "tflite", "executorch")
GOALS = {"int8_vs_naive_onnx": 3.0, "int8_vs_own_fp32": 2.0, "onnx_int8_vs_fp32": 1.5, "onnx_deploy_vs_naive": 1.2}


def peak_gmacs(cores: int) -> dict:
    """Rough peak of this CPU: cores × 2 AVX-512 FMA units × 16 fp32 lanes × clock (fp32); VNNI does
    4 INT8 MACs per fp32 lane. An estimate from /proc/cpuinfo, labelled as such in the results. Where the
    CPU has AMX-INT8 (1024 INT8 MACs per cycle per core), the INT8 ceiling is that much higher: LiteRT's
    XNNPACK runs the INT8 1×1 convs on AMX tiles here (perf shows
    ``xnn_qs8_qc8w_gemm_minmax_fp32_ukernel_16x64c4__avx512amx``), so % of the VNNI peak overstates how
    close INT8 is to the limit; the models are bound by their float work, not by MACs."""
    mhz, flags = 0.0, set()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("cpu MHz"):
                mhz = max(mhz, float(line.split(":")[1]))
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":")[1].split())
    except (OSError, ValueError):
        pass
    lanes = 16 if "avx512f" in flags else 8  # AVX2 hosts: 8 fp32 lanes
    dot = any(f in flags for f in ("avx512_vnni", "avx_vnni", "amx_int8"))
    fp32 = cores * 2 * lanes * mhz / 1e3
    amx = "amx_int8" in flags
    # without an 8-bit dot product (VNNI), INT8 goes through 16-bit pair sums: 2 MACs per fp32 lane
    return {"clock_mhz": mhz, "fp32_gmacs": fp32, "int8_gmacs": fp32 * (4 if dot else 2), "amx_int8": amx,
            "amx_int8_gmacs": cores * 1024 * mhz / 1e3 if amx else None,
            "assumption": f"2 {'AVX-512' if lanes == 16 else 'AVX2'} FMA units/core, {lanes} fp32 lanes, "
                          f"{'VNNI 4' if dot else 'no VNNI: 2'} int8 MACs per lane, base clock"}


def export(variant: str, target: str, form: str, out: Path, args) -> dict:
    # Random-init naive xxs makes TFLite's XNNPACK delegate fail to prepare (6 FULLY_CONNECTED on the
    # repeat's 8-D tensors); with the reference weights the naive graph loads, split over 7 partitions.
    weights = args.weights if variant == "efficientmod_xxs" and args.weights else "none"
    return export_form(variant, target, form, out, weights, args.calib, args.calib_size)


def cpu_label() -> str:
    """The CPU and the flags that pick its kernels, as every row records them."""
    m = machine_info()
    return f"{m['cpu']} ({', '.join(m['cpu_flags']) or 'no AVX2'})"


def _of_peak(gmacs: float | None, peak_gmacs: float | None) -> str:
    """GMAC/s and its share of the row's own CPU's estimated peak."""
    return f"{gmacs:.0f} ({gmacs / peak_gmacs:.0%})" if gmacs and peak_gmacs else "–"


def _cost_cell(cost: dict | None) -> str:
    if not cost:
        return "–"
    return f"{cost['int8_mac_share']:.0%} / {cost['float_islands']} / {cost['converts']} / {cost['nodes']}"


def _ratio(a, b):
    return round(a / b, 2) if isinstance(a, float) and isinstance(b, float) and b > 0 else None


def alone_rounds(paths: dict, threads: int, runs: int, rounds: int) -> dict:
    """Median over ``rounds`` of each artifact's alone time (``effmod bench``, own process). The
    rounds go round-robin over every artifact of the variant, all runtimes, so a change in the
    machine's load hits all of them alike and cross-runtime ratios come from one run."""
    times: dict = {k: [] for k in paths}
    for _ in range(rounds):
        for k, path in paths.items():
            r = bench(path, threads=threads, runs=runs)
            if r.get("status") == "ok":
                times[k].append(r["median_ms"])
    return {k: v for k, v in times.items() if v}  # each artifact's round medians


def measure_variant(variant: str, args, progress, task) -> list[dict]:
    macs = count_macs(create_model(variant), torch.randn(1, 3, 224, 224))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        measured, alone_paths = {}, {}
        for target in TARGETS:
            arts, errors = {}, {}
            for form in FORMS:
                if "int8" in form and variant not in args.int8_variants:
                    errors[form] = "not measured (INT8 export of this variant skipped: --int8-variants)"
                    continue
                progress.update(task, description=f"{variant} · {target} · export {form}")
                try:
                    arts[form] = export(variant, target, form, Path(tmp), args)
                except ExportFailed as e:
                    errors[form] = f"export failed: {e}"
            progress.update(task, description=f"{variant} · {target} · timing")
            timed = time_interleaved({f: m["path"] for f, m in arts.items()}, args.threads, args.runs) if arts else {}
            ms = {f: v for f, v in timed.items() if isinstance(v, float)}
            errors.update({f: f"load/run failed: {v}" for f, v in timed.items() if isinstance(v, str)})
            measured[target] = (arts, errors, ms)
            alone_paths.update({(target, f): arts[f]["path"] for f in ms})
            progress.console.print(f"{variant} {target}: " + ", ".join(
                f"{f} {ms[f]:.2f} ms" for f in ms) + (f"  errors: {errors}" if errors else ""))
        progress.update(task, description=f"{variant} · alone ×{args.alone_rounds}")
        alone_all = alone_rounds(alone_paths, args.threads, args.runs, args.alone_rounds)
        alone = {k: statistics.median(v) for k, v in alone_all.items()}
        for target in TARGETS:
            arts, errors, ms = measured[target]
            d = (arts.get("deploy fp32") or {}).get("delegation") or {}
            n = (arts.get("naive fp32") or {}).get("delegation") or {}
            q = (arts.get("deploy int8") or {}).get("delegation") or {}
            # SQNR vs the simulated quantized reference (parity's correctness gate)
            int8_parity = (((arts.get("deploy int8") or {}).get("parity") or {}).get("correctness") or {}).get(
                "metrics") or {}
            rows.append({
                "variant": variant, "target": target, "gmacs": round(macs / 1e9, 3),
                **{f"{f.replace(' ', '_')}_ms": round(ms[f], 2) if f in ms else None for f in FORMS},
                **{f"{f.replace(' ', '_')}_alone_ms": round(alone[(target, f)], 2) if (target, f) in alone else None
                   for f in ms},
                **{f"{f.replace(' ', '_')}_alone_best_ms": round(min(alone_all[(target, f)]), 2)
                   for f in ms if (target, f) in alone_all},
                "alone_rounds": args.alone_rounds,
                "cpu": cpu_label(),
                "cost_int8": (arts.get("deploy int8") or {}).get("cost"),
                "cost_fp32": (arts.get("deploy fp32") or {}).get("cost"),
                "deploy_vs_naive": _ratio(ms.get("naive fp32"), ms.get("deploy fp32")),
                "int8_vs_deploy_fp32": _ratio(ms.get("deploy fp32"), ms.get("deploy int8")),
                "int8_vs_naive_fp32": _ratio(ms.get("naive fp32"), ms.get("deploy int8")),
                "naive_int8_vs_naive_fp32": _ratio(ms.get("naive fp32"), ms.get("naive int8")),
                "gmac_per_s_fp32": round(macs / 1e6 / ms["deploy fp32"], 1) if "deploy fp32" in ms else None,
                "gmac_per_s_int8": round(macs / 1e6 / ms["deploy int8"], 1) if "deploy int8" in ms else None,
                "partitions_naive": n.get("partitions"), "partitions_deploy": d.get("partitions"),
                "partitions_int8": q.get("partitions"),
                "int8_sqnr_db": round(int8_parity["sqnr_db"], 1) if "sqnr_db" in int8_parity else None,
                "weights": "reference checkpoint" if variant == "efficientmod_xxs" and args.weights else "random init",
                "errors": errors,
            })
    return rows


def add_cross_runtime(rows: list[dict]) -> None:
    """'best INT8 vs naive ONNX fp32' from the alone timings (separate processes, default settings)."""
    for variant in {r["variant"] for r in rows}:
        vr = [r for r in rows if r["variant"] == variant]
        naive_onnx = next((r.get("naive_fp32_alone_ms") for r in vr if r["target"] == "onnx"), None)
        for r in vr:
            r["int8_vs_naive_onnx_fp32"] = _ratio(naive_onnx, r.get("deploy_int8_alone_ms"))


def _missed_by(measured: float, goal: float) -> str | None:
    return None if measured >= goal else f"{goal / measured:.2f}×"


def goal_check(rows: list[dict]) -> list[dict]:
    """Issue #26's goals, for xxs (where they are stated), from the measured rows: cross-runtime ratios
    from the alone timings (one process per artifact, rounds round-robin), a runtime's own ratios from
    its interleaved run."""
    x = [r for r in rows if r["variant"] == "efficientmod_xxs"]
    if not x:
        return []
    by = {r["target"]: r for r in x}
    out = []
    best = max((r for r in x if r.get("int8_vs_naive_onnx_fp32")), key=lambda r: r["int8_vs_naive_onnx_fp32"],
               default=None)
    if best:
        v = best["int8_vs_naive_onnx_fp32"]
        out.append({"goal": "best INT8 ≥ 3× naive ONNX fp32 (alone)", "measured": f"{v:.2f}× ({best['target']}: "
                    f"{best['deploy_int8_alone_ms']:.2f} vs {by['onnx']['naive_fp32_alone_ms']:.2f} ms)",
                    "met": v >= GOALS["int8_vs_naive_onnx"], "missed_by": _missed_by(v, GOALS["int8_vs_naive_onnx"])})
    for t, goal in (("tflite", GOALS["int8_vs_own_fp32"]), ("executorch", GOALS["int8_vs_own_fp32"]),
                    ("onnx", GOALS["onnx_int8_vs_fp32"])):
        v = (by.get(t) or {}).get("int8_vs_deploy_fp32")
        if v is not None:
            out.append({"goal": f"{t} INT8 ≥ {goal}× its deploy fp32", "measured": f"{v:.2f}× (interleaved)",
                        "met": v >= goal, "missed_by": _missed_by(v, goal)})
    v = (by.get("onnx") or {}).get("deploy_vs_naive")
    if v is not None:
        out.append({"goal": f"ONNX deploy fp32 ≥ {GOALS['onnx_deploy_vs_naive']}× naive", "measured":
                    f"{v:.2f}× (interleaved)", "met": v >= GOALS["onnx_deploy_vs_naive"],
                    "missed_by": _missed_by(v, GOALS["onnx_deploy_vs_naive"])})
    if "tflite" in by:
        p = by["tflite"].get("partitions_deploy"), by["tflite"].get("partitions_int8")
        out.append({"goal": "TFLite fully delegated (deploy fp32, int8)", "measured": f"{p[0]}, {p[1]} partition(s)",
                    "met": p == (1, 1), "missed_by": None})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", default=",".join(list_models()))
    ap.add_argument("--calib", help="INT8 calibration folder (default: built-in photos)")
    ap.add_argument("--calib-size", type=int, default=64, help="latency does not depend on it (default 64)")
    ap.add_argument("--weights", default=str(GOLDEN) if GOLDEN.is_file() else None, help="xxs checkpoint")
    ap.add_argument("--int8-variants", default=None,
                    help="variants that also get an INT8 export (default: all; INT8 export of an s variant takes "
                         "~10 min on 2 cores)")
    ap.add_argument("--alone-rounds", type=int, default=3,
                    help="round-robin rounds of alone timings over all of a variant's artifacts (median)")
    ap.add_argument("--update", action="store_true",
                    help="keep the other variants' rows of the existing results/latency.json (refresh some)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--render", action="store_true", help="only rewrite results/latency.md from latency.json")
    args = ap.parse_args()
    args.int8_variants = set((args.int8_variants or args.variants).split(","))
    peak = peak_gmacs(min(args.threads, os.cpu_count() or 1))
    variants = args.variants.split(",")
    rows = []
    if args.update and (OUT / "latency.json").is_file():
        earlier = json.loads((OUT / "latency.json").read_text())
        # rows from before rows named their CPU and peak: the file's machine and estimate
        cpu, old_peak = earlier["machine"]["cpu"], earlier.get("peak_estimate")
        rows = [{"cpu": cpu, "peak": old_peak, **r} for r in earlier["rows"] if r["variant"] not in variants]
    if args.render:  # only rewrite latency.md from latency.json
        earlier = json.loads((OUT / "latency.json").read_text())
        return write_results(earlier["rows"], args, peak, show=True, machine=earlier["machine"])
    with Progress() as progress:
        task = progress.add_task("latency", total=len(variants))
        for variant in variants:
            rows += [{**r, "peak": peak} for r in measure_variant(variant, args, progress, task)]
            write_results(rows, args, peak)  # after every variant: a killed run keeps what it measured
            progress.advance(task)
    write_results(rows, args, peak, show=True)


def write_results(rows: list[dict], args, peak: dict, show: bool = False, machine: dict | None = None) -> None:
    add_cross_runtime(rows)
    goals = goal_check(rows)
    OUT.mkdir(exist_ok=True)
    m = machine or machine_info()
    result = {"benchmark": "latency", "machine": m, "threads": args.threads, "runs": args.runs,
              "calibration": f"{args.calib or 'built-in sample photos'} ({args.calib_size} images)",
              "peak_estimate": peak, "date": time.strftime("%Y-%m-%d"), "goals": goals, "rows": rows}
    (OUT / "latency.json").write_text(json.dumps(result, indent=2) + "\n")

    def f(v, fmt="{:.2f}"):
        return fmt.format(v) if v is not None else "–"

    cells = [[r["variant"].replace("efficientmod_", ""), r["target"], f(r["naive_fp32_ms"]), f(r["deploy_fp32_ms"]),
              f(r["deploy_int8_ms"]), f(r.get("naive_int8_ms")), f(r["deploy_vs_naive"], "{:.2f}×"), f(r["int8_vs_deploy_fp32"], "{:.2f}×"),
              f(r.get("naive_fp32_alone_ms")), f(r.get("deploy_fp32_alone_ms")), f(r.get("deploy_int8_alone_ms")),
              f(r["int8_vs_naive_onnx_fp32"], "{:.2f}×"),
              _of_peak(r["gmac_per_s_fp32"], (r.get("peak") or peak)["fp32_gmacs"]),
              _of_peak(r["gmac_per_s_int8"], (r.get("peak") or peak)["int8_gmacs"]),
              " → ".join(str(r[k] or "-") for k in ("partitions_naive", "partitions_deploy", "partitions_int8")),
              _cost_cell(r.get("cost_int8")), r.get("cpu", "?"),
              "; ".join(f"{k}: {v}" for k, v in r["errors"].items())[:160]] for r in rows]
    goal_md = "\n".join(["| goal (xxs) | measured | met |", "|---|---|---|"]
                        + [f"| {g['goal']} | {g['measured']} | {goal_verdict(g)} |" for g in goals])
    multi = sorted({r["variant"].removeprefix("efficientmod_") for r in rows if r.get("alone_rounds", 1) > 1})
    n_rounds = max((r.get("alone_rounds", 1) for r in rows), default=1)
    rounds_note = (f"median of {n_rounds} rounds that went round-robin over all of a variant's artifacts, every runtime, "
                   f"so a change in load hits them alike ({', '.join(multi)}; the other variants: one run each)"
                   if multi else "one run each")
    emit_table(f"naive vs deploy vs INT8, 224², batch 1, {args.threads} threads, median of {args.runs} runs",
               ["variant", "runtime", "naive fp32 ms", "deploy fp32 ms", "deploy int8 ms", "naive int8 ms", "deploy/naive",
                "int8/fp32", "alone: naive", "alone: deploy", "alone: int8", "int8 vs naive ONNX (alone)",
                "GMAC/s fp32 (% peak)", "GMAC/s int8 (% peak)", "XNNPACK partitions naive → deploy → int8",
                "int8 cost: INT8 MACs / float islands / Q/DQ / nodes", "measured on", "errors"], cells, OUT / "latency.md",
               f"This run: {cpu_label()}, {m['cores']} cores, {args.threads} threads; {time.strftime('%Y-%m-%d')}; "
               f"rows kept from earlier runs name their own CPU ('measured on'). "
               f"The first four columns time the forms of one runtime interleaved in one process (ORT "
               f"sessions without thread spinning, which would make them slow each other 2-3×); the ratios next "
               f"to them come from that run. 'alone' = `effmod bench`, each artifact in its own process with "
               f"the runtime's defaults, {rounds_note}; 'int8 vs naive ONNX' divides the naive ONNX fp32 alone time by this "
               f"row's INT8 alone time. xxs uses the reference checkpoint, the other variants random init. "
               f"% peak uses each row's own CPU's estimate; this run's: {peak['fp32_gmacs']:.0f} GMAC/s fp32, {peak['int8_gmacs']:.0f} int8 "
               f"({peak['assumption']}, {peak['clock_mhz']:.0f} MHz"
               + (f"; with AMX-INT8 the INT8 ceiling is {peak['amx_int8_gmacs']:.0f} GMAC/s, and TFLite's XNNPACK "
                  f"runs the INT8 1×1 convs on AMX tiles (perf), so INT8 is bound by its float work, not MACs"
                  if peak.get("amx_int8_gmacs") else "") + "). "
               f"INT8 calibration: {result['calibration']}.\n\n{goal_md}", show=show)


if __name__ == "__main__":
    main()

"""Where the time goes: per-op profiles of the naive, deploy and INT8 artifacts (xxs at 224 by default).

- onnxruntime: its own node profiler (``SessionOptions.enable_profiling``), summed per op type and per
  category (MAC ops, norm, activation, elementwise, layout, quantize/dequantize, attention).
- ExecuTorch: the pip wheel is built without the event tracer (ETDump is empty), so the program is read
  for the kernels left outside the XNNPACK delegate, and the process is sampled with ``py-spy --native``
  (``pip install py-spy``): the share of time in the XNNPACK delegate, in XNNPACK's per-inference
  re-planning (``xnn_reshape_*``, which ExecuTorch runs on every call) and in each portable kernel.
- From the deploy fp32 ORT profile: the INT8 ceiling (Amdahl) if only the MAC ops became faster.

Each profile runs in its own process. Writes benchmarks/results/profile.{json,md}.

    python benchmarks/profile_ops.py [--model efficientmod_xxs] [--calib DIR] [--threads 2] [--seconds 8]
"""
from __future__ import annotations

import argparse
import collections
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import FORMS as EXPORT_FORMS  # noqa: E402
from _common import GOLDEN, OUT, export_form, machine_info  # noqa: E402

FORMS = [f for f in EXPORT_FORMS if f != "naive int8"]
CATEGORY = {  # ORT op type -> what kind of work it is
    "Conv": "MAC ops", "Gemm": "MAC ops", "FusedConv": "MAC ops", "QLinearConv": "MAC ops", "QGemm": "MAC ops",
    "MatMul": "attention", "FusedMatMul": "attention", "QLinearMatMul": "attention", "Softmax": "attention",
    "QLinearSoftmax": "attention",
    "LayerNormalization": "norm", "ReduceMean": "norm", "Sub": "norm", "Sqrt": "norm", "Reciprocal": "norm",
    "Pow": "norm", "Div": "norm",
    "Gelu": "activation", "Erf": "activation",
    "Mul": "elementwise (multiply, norm scale)", "Add": "elementwise (residual, bias)",
    "QLinearMul": "elementwise (multiply, norm scale)", "QLinearAdd": "elementwise (residual, bias)",
    "Tile": "layout (repeat)", "Reshape": "layout (repeat)", "Transpose": "layout (repeat)",
    "ReorderInput": "layout (NCHWc reorder)", "ReorderOutput": "layout (NCHWc reorder)", "Squeeze": "layout (repeat)",
    "Split": "layout (repeat)", "Unsqueeze": "layout (repeat)", "Expand": "layout (repeat)",
    "QuantizeLinear": "quantize/dequantize", "DequantizeLinear": "quantize/dequantize",
}

_ORT_PROFILE = r"""
import collections, json, sys
import numpy as np, onnxruntime as ort
path, threads, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
o = ort.SessionOptions(); o.intra_op_num_threads = threads; o.inter_op_num_threads = 1; o.enable_profiling = True
o.profile_file_prefix = sys.argv[4]
s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"])
x = {s.get_inputs()[0].name: np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)}
for _ in range(runs): s.run(None, x)
ev = json.load(open(s.end_profiling()))
us, n = collections.Counter(), collections.Counter()
for e in ev:
    if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
        us[e["args"]["op_name"]] += e["dur"]; n[e["args"]["op_name"]] += 1
print(json.dumps({k: {"ms": us[k] / runs / 1e3, "nodes": n[k] // runs} for k in us}))
"""

_ET_LOOP = r"""
import sys, time, torch
from executorch.extension.pybindings import portable_lib as p
m = p._load_for_executorch(sys.argv[1]); x = torch.randn(1, 3, 224, 224)
for _ in range(10): m.forward([x])
t = time.time()
while time.time() - t < float(sys.argv[2]): m.forward([x])
"""


def ort_profile(path: str, threads: int, runs: int = 30) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run([sys.executable, "-c", _ORT_PROFILE, path, str(threads), str(runs), f"{tmp}/ort"],
                              capture_output=True, text=True, cwd=tmp)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1]}
    ops = json.loads(proc.stdout.strip().splitlines()[-1])
    total = sum(v["ms"] for v in ops.values())
    cats = collections.Counter()
    for k, v in ops.items():
        cats[CATEGORY.get(k, "other")] += v["ms"]
    return {"total_ms": round(total, 3),
            "ops": {k: {"ms": round(v["ms"], 3), "share": round(v["ms"] / total, 3), "nodes": v["nodes"]}
                    for k, v in sorted(ops.items(), key=lambda kv: -kv[1]["ms"])},
            "categories": {k: {"ms": round(v, 3), "share": round(v / total, 3)} for k, v in cats.most_common()}}


def et_program_kernels(path: str) -> dict:
    """Instructions of the ExecuTorch program: delegate calls and the portable kernels outside them."""
    from executorch.exir._serialize._program import deserialize_pte_binary

    prog = deserialize_pte_binary(Path(path).read_bytes())
    prog = getattr(prog, "program", prog)
    plan = prog.execution_plan[0]
    names = [o.name for o in plan.operators]
    count: collections.Counter = collections.Counter()
    for chain in plan.chains:
        for ins in chain.instructions:
            kind = type(ins.instr_args).__name__
            count[names[ins.instr_args.op_index] if kind == "KernelCall" else "XNNPACK delegate call"] += 1
    return dict(count.most_common())


_ET_BUCKETS = [  # first match on the sampled stack wins: portable kernels may use the pool too
    ("portable layer_norm", re.compile(r"layer_norm")),
    ("portable repeat", re.compile(r"repeat_out")),
    ("portable expand_copy", re.compile(r"expand_copy")),
    ("portable squeeze/view copies", re.compile(r"squeeze_copy|view_copy|unsqueeze_copy")),
    ("portable dim-order copies", re.compile(r"dim_order")),
    ("portable mean", re.compile(r"mean_dim_out|mean_out")),
    ("XNNPACK re-plan per call (xnn_reshape_*)", re.compile(r"xnn_reshape|xnn_setup_runtime")),
    ("XNNPACK compute", re.compile(r"XnnpackBackend|XNNExecutor|xnn_invoke_runtime|pthreadpool")),
]


def bucket_of(stack: str) -> str | None:
    """The bucket of one sampled stack (frames joined by ';'), None when not inside Method::execute."""
    if "Method::execute" not in stack:
        return None
    return next((name for name, rx in _ET_BUCKETS if rx.search(stack)), "other (runtime overhead)")


def et_sampled(path: str, seconds: float) -> dict:
    """Share of ExecuTorch's execute time per bucket, sampled on the calling thread by py-spy."""
    if not shutil.which("py-spy"):
        return {"error": "py-spy not installed (pip install py-spy): no sampled ExecuTorch profile"}
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "stacks.txt"
        proc = subprocess.run(["py-spy", "record", "--native", "-r", "400", "-f", "raw", "-o", str(raw), "--",
                               sys.executable, "-c", _ET_LOOP, path, str(seconds)], capture_output=True, text=True)
        if not raw.is_file():
            return {"error": f"py-spy failed: {(proc.stderr.strip().splitlines() or ['no output'])[-1]}"}
        counts: collections.Counter = collections.Counter()
        for line in raw.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            bucket = bucket_of(stack)
            if bucket:
                counts[bucket] += int(n)
    total = sum(counts.values())
    return {"samples": total, "shares": {k: round(v / total, 3) for k, v in counts.most_common()}}


def amdahl(profile: dict) -> dict:
    """INT8 ceilings if only the MAC ops (convs, GEMMs) got faster, from a float per-op profile."""
    s = profile["categories"].get("MAC ops", {}).get("share", 0.0)
    return {"mac_share": s, "ceiling_if_mac_free": round(1 / (1 - s), 2) if s < 1 else None,
            "ceiling_if_mac_4x": round(1 / ((1 - s) + s / 4), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="efficientmod_xxs")
    ap.add_argument("--weights", default=str(GOLDEN) if GOLDEN.is_file() else "none")
    ap.add_argument("--calib", help="INT8 calibration folder (default: built-in photos)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=8.0, help="py-spy sampling time per ExecuTorch artifact")
    args = ap.parse_args()
    result = {"benchmark": "profile_ops", "model": args.model, "machine": machine_info(), "threads": args.threads,
              "date": time.strftime("%Y-%m-%d"), "onnxruntime": {}, "executorch": {}}
    from rich.progress import Progress

    with tempfile.TemporaryDirectory() as tmp, Progress() as progress:
        task = progress.add_task("profile", total=2 * len(FORMS))
        for target in ("onnx", "executorch"):
            for form in FORMS:
                progress.update(task, description=f"{target} · {form}")
                path = export_form(args.model, target, form, Path(tmp), args.weights, args.calib,
                                   64 if args.calib else None)["path"]
                if target == "onnx":
                    result["onnxruntime"][form] = ort_profile(path, args.threads)
                else:
                    result["executorch"][form] = {"program": et_program_kernels(path),
                                                  "sampled": et_sampled(path, args.seconds)}
                progress.advance(task)
    deploy = result["onnxruntime"].get("deploy fp32", {})
    if "categories" in deploy:
        result["int8_ceiling"] = amdahl(deploy)
    OUT.mkdir(exist_ok=True)
    (OUT / "profile.json").write_text(json.dumps(result, indent=2) + "\n")
    (OUT / "profile.md").write_text(to_markdown(result))
    print(to_markdown(result))


def to_markdown(r: dict) -> str:
    ort, et = r["onnxruntime"], r["executorch"]
    forms = list(FORMS)
    md = [f"### onnxruntime per category (ms per inference, share), {r['model']}, {r['threads']} threads", "",
          "| category | " + " | ".join(forms) + " |", "|---|" + "---:|" * len(forms)]
    cats = list(dict.fromkeys(c for f in forms for c in ort.get(f, {}).get("categories", {})))
    for c in cats:
        md.append(f"| {c} | " + " | ".join(
            f"{ort[f]['categories'][c]['ms']:.2f} ({ort[f]['categories'][c]['share']:.0%})"
            if c in ort.get(f, {}).get("categories", {}) else "–" for f in forms) + " |")
    md.append("| **total (sum of node times)** | " + " | ".join(f"{ort[f].get('total_ms', 0):.2f}" for f in forms) + " |")
    md += ["", "### onnxruntime top op types", "", "| form | op type | nodes | ms | share |", "|---|---|---:|---:|---:|"]
    for f in forms:
        for op, v in list(ort.get(f, {}).get("ops", {}).items())[:8]:
            md.append(f"| {f} | {op} | {v['nodes']} | {v['ms']:.2f} | {v['share']:.0%} |")
    md += ["", "### ExecuTorch: program instructions and sampled time", "",
           "| form | instructions outside / calling the delegate | sampled share of execute time |", "|---|---|---|"]
    for f in forms:
        e = et.get(f, {})
        prog = ", ".join(f"{k} ×{v}" for k, v in e.get("program", {}).items())
        s = e.get("sampled", {})
        shares = s.get("error") or ", ".join(f"{k} {v:.0%}" for k, v in s.get("shares", {}).items())
        md.append(f"| {f} | {prog} | {shares} |")
    if "int8_ceiling" in r:
        c = r["int8_ceiling"]
        md += ["", f"INT8 ceiling from the deploy fp32 ORT profile: MAC ops are {c['mac_share']:.0%} of node time, so "
               f"making only them faster caps the speed-up at {c['ceiling_if_mac_free']:.2f}× (free) or "
               f"{c['ceiling_if_mac_4x']:.2f}× (4× faster, the VNNI ideal); the rest is norm, GELU, multiply, "
               f"residual add and layout work that ORT's INT8 graph keeps in float."]
    m = r["machine"]
    md += ["", f"{m['cpu']}, {m['cores']} cores; {r['date']}. ExecuTorch shares are py-spy samples of the calling "
           "thread (which also runs its share of XNNPACK's pool work); per-op XNNPACK kernel names are not "
           "visible (stripped symbols, no event tracer in the wheel)."]
    return "\n".join(md) + "\n"


if __name__ == "__main__":
    main()

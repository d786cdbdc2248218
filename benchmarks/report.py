"""Assemble benchmarks/RESULTS.md from the JSON/Markdown files the benchmark scripts wrote.

Every number in RESULTS.md comes from benchmarks/results/*.json (or the tables written next to them);
the explanations below quote those numbers, so re-running the scripts and then this one refreshes
the whole file. Sections whose results file is missing say which script makes it.

    python benchmarks/report.py
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RES = HERE / "results"
sys.path.insert(0, str(HERE))
from _common import goal_verdict  # noqa: E402


def _load(name: str) -> dict | None:
    p = RES / f"{name}.json"
    return json.loads(p.read_text()) if p.is_file() else None


def _table(name: str) -> str:
    p = RES / f"{name}.md"
    return p.read_text().strip() if p.is_file() else f"_missing: run `python benchmarks/{name}.py`_"


def _row(lat: dict, variant: str, target: str) -> dict:
    return next((r for r in lat["rows"] if r["variant"] == variant and r["target"] == target), {})


def why_executorch_vs_ort(lat: dict | None, prof: dict | None) -> list[str]:
    """The 'ExecuTorch fp32 2× slower than ORT' question, answered with this run's numbers."""
    if not lat:
        return ["_needs results/latency.json_"]
    x = "efficientmod_xxs"
    on, et, tf = _row(lat, x, "onnx"), _row(lat, x, "executorch"), _row(lat, x, "tflite")
    out = []
    if on.get("naive_fp32_alone_ms") and et.get("naive_fp32_alone_ms"):
        out.append(f"- **Naive graph** (what the 2× was measured on): ExecuTorch {et['naive_fp32_alone_ms']:.2f} ms vs "
                   f"ORT {on['naive_fp32_alone_ms']:.2f} ms = **{et['naive_fp32_alone_ms'] / on['naive_fp32_alone_ms']:.2f}×**, "
                   f"each alone in its own process.")
    if prof:
        n = prof["executorch"].get("naive fp32", {})
        prog, shares = n.get("program", {}), n.get("sampled", {}).get("shares", {})
        portable = {k: v for k, v in prog.items() if k != "XNNPACK delegate call"}
        if prog:
            out.append(f"- The naive program is cut into **{prog.get('XNNPACK delegate call', 0)} XNNPACK partitions**; "
                       f"between them ExecuTorch runs its *portable* (reference, mostly single-threaded) kernels: "
                       + ", ".join(f"{k.split('::')[-1]} ×{v}" for k, v in portable.items()) + ". The XNNPACK "
                       "partitioner in executorch 1.4.1 takes neither `native_layer_norm` nor the `repeat`'s 8-D tensors.")
        if shares:
            port = sum(v for k, v in shares.items() if k.startswith("portable"))
            out.append(f"- Sampled, those portable kernels are **{port:.0%}** of the naive program's time ("
                       + ", ".join(f"{k} {v:.0%}" for k, v in shares.items() if k.startswith("portable") and v >= 0.005)
                       + f"); XNNPACK itself {shares.get('XNNPACK compute', 0):.0%}, and XNNPACK then also works on "
                       "many small partitions with copies between them.")
    if on.get("deploy_fp32_alone_ms") and et.get("deploy_fp32_alone_ms"):
        d = prof["executorch"].get("deploy fp32", {}) if prof else {}
        replan = d.get("sampled", {}).get("shares", {}).get("XNNPACK re-plan per call (xnn_reshape_*)")
        q = prof["executorch"].get("deploy int8", {}) if prof else {}
        replan8 = q.get("sampled", {}).get("shares", {}).get("XNNPACK re-plan per call (xnn_reshape_*)")
        out.append(f"- **Deploy form**: one partition, no portable kernels in the hot path, and ExecuTorch runs at "
                   f"{et['deploy_fp32_alone_ms']:.2f} ms vs ORT {on['deploy_fp32_alone_ms']:.2f} ms "
                   f"(**{et['deploy_fp32_alone_ms'] / on['deploy_fp32_alone_ms']:.2f}×**) and TFLite-XNNPACK "
                   f"{tf.get('deploy_fp32_alone_ms') or float('nan'):.2f} ms. What ExecuTorch still spends beyond TFLite, "
                   f"which runs the same XNNPACK kernels, is re-planning the XNNPACK runtime on every call "
                   f"(`XNNExecutor::prepare_args` → `xnn_reshape_runtime`)"
                   + (f": {replan:.0%} of its fp32 time" if replan is not None else "")
                   + (f" and {replan8:.0%} of its INT8 time (Q/DQ converts double the op count)" if replan8 is not None else "")
                   + ". TFLite reshapes only when an input shape changes.")
    return out


def why_ort_deploy(lat: dict | None, prof: dict | None) -> list[str]:
    if not (lat and prof):
        return ["_needs results/latency.json and results/profile.json_"]
    ort = prof["onnxruntime"]
    nv, dp = ort.get("naive fp32", {}).get("categories", {}), ort.get("deploy fp32", {}).get("categories", {})

    def ms(c, k):
        return c.get(k, {}).get("ms", 0.0)
    r = _row(lat, "efficientmod_xxs", "onnx")
    bn = _row(lat, "efficientmod_xxs_bn", "onnx")
    lines = [
        f"- ORT already fuses the official graph well: `LayerNormalization`, `Gelu`, `Gemm` with bias. What the deploy "
        f"form removes there is the repeat/permute layout work ({ms(nv, 'layout (repeat)'):.2f} ms in the naive profile). "
        f"It pays some of that back: the channel LayerNorm of an NCHW graph has no fused ORT kernel and becomes "
        f"ReduceMean/Sub/Sqrt/Reciprocal/Mul ({ms(dp, 'norm'):.2f} ms of norm ops vs {ms(nv, 'norm'):.2f} ms for the fused "
        f"op) plus NCHWc reorders around the reductions ({ms(dp, 'layout (NCHWc reorder)'):.2f} ms). The 1×1 convs in "
        f"NCHWc are faster than the naive `Gemm`s ({ms(dp, 'MAC ops'):.2f} ms of MAC ops incl. depthwise vs "
        f"{ms(nv, 'MAC ops'):.2f} ms).",
        "- Tried for ORT on 2026-11-24 (one-off experiments with `effmod bench`, xxs, alone, 2 threads; not re-run by "
        "these scripts): a channels-last deploy form (fused "
        "`LayerNormalization` + `MatMul`, broadcast multiply) ran 7.89 ms vs 7.30 ms for NCHW; averaging channels "
        "with a constant 1×1 conv instead of `ReduceMean` 7.44 vs 7.22 ms; 7×7 depthwise in row bands 11.1 vs 8.7 ms. "
        "NCHW with `ReduceMean` stays ORT's form.",
    ]
    if r.get("deploy_vs_naive") and bn.get("deploy_vs_naive"):
        lines.append(f"- The norm is the difference: with BatchNorm (`efficientmod_xxs_bn`, the paper's appendix variant) "
                     f"the deploy form folds every norm into a conv and ORT gains {bn['deploy_vs_naive']:.2f}× "
                     f"(interleaved) / {bn['naive_fp32_alone_ms'] / bn['deploy_fp32_alone_ms']:.2f}× (alone) over "
                     f"its naive graph, against {r['deploy_vs_naive']:.2f}× / "
                     f"{r['naive_fp32_alone_ms'] / r['deploy_fp32_alone_ms']:.2f}× for LayerNorm xxs.")
    return lines


def why_int8(lat: dict | None, prof: dict | None) -> list[str]:
    if not (lat and prof and "int8_ceiling" in prof):
        return ["_needs results/latency.json and results/profile.json_"]
    c = prof["int8_ceiling"]
    q = prof["onnxruntime"].get("deploy int8", {}).get("categories", {})
    qd = q.get("quantize/dequantize", {}).get("ms", 0.0)
    mac = q.get("MAC ops", {}).get("ms", 0.0)
    tot = prof["onnxruntime"].get("deploy int8", {}).get("total_ms", 0.0)
    naive = _row(lat, "efficientmod_xxs", "onnx").get("naive_fp32_alone_ms")
    tfl = _row(lat, "efficientmod_xxs", "tflite")
    lines = [
        f"- Amdahl, in ORT: in its deploy fp32 profile the MAC ops (1×1 and depthwise convs, head) are "
        f"{c['mac_share']:.0%} of the time. If INT8 made them free the model would get at most "
        f"{c['ceiling_if_mac_free']:.2f}× faster; at the VNNI ideal of 4× per MAC, {c['ceiling_if_mac_4x']:.2f}×. "
        f"The rest — channel norms, GELU, residual adds, layout — is memory-bound float work that every INT8 "
        f"recipe here keeps in float (INT8 norms and GELU cost accuracy; XNNPACK has no INT8 GELU). TFLite also "
        f"runs the modulation multiply and the patch embeddings' padding in INT8; ExecuTorch quantizes whatever "
        f"XNNPACKQuantizer annotates outside the norm and depthwise modules.",
    ]
    if tot:
        lines.append(f"- In ORT's INT8 graph the quantized convs take {mac:.2f} ms of {tot:.2f} ms; Quantize/Dequantize "
                     f"at the float islands' borders alone take {qd:.2f} ms. ORT's INT8 model is therefore barely faster "
                     f"than its fp32 one, and the best INT8 artifact is TFLite's.")
    if naive and tfl.get("deploy_int8_alone_ms") and tfl.get("deploy_fp32_alone_ms"):
        i8, f32 = tfl["deploy_int8_alone_ms"], tfl["deploy_fp32_alone_ms"]
        lines.append(f"- TFLite, alone: naive ONNX fp32 {naive:.2f} ms, TFLite deploy fp32 {f32:.2f} ms, TFLite INT8 "
                     f"{i8:.2f} ms ({f32 / i8:.2f}× its fp32, {naive / i8:.2f}× naive ONNX). 2.5× needs "
                     f"{naive / 2.5:.2f} ms.")
    lines.append(
        "- Where the TFLite INT8 time goes (xxs, `perf record` over both threads, 2026-11-24, one-off): INT8 convs on "
        "AMX tiles 29 % (`xnn_qs8_qc8w_[i]gemm_..._16x64c4__avx512amx`), float 7×7 depthwise parts 16 %, the "
        "thread pool's hand-offs and spinning about 18 %, the INT8 modulation multiply 5 % (an AVX, not AVX-512, "
        "kernel), attention batch-matmuls 4 % and their transposes 3 %, Quantize/Dequantize converts 4 %, residual "
        "and depthwise-part adds 2 %. The INT8 MACs are under a third of the time; most of the rest is float work "
        "and synchronisation that INT8 does not touch.")
    lines.append(
        "- What moved INT8 on 2026-11-24 (TFLite, interleaved): litert-torch had wrapped every modulation multiply in "
        "an NHWC↔NCHW transpose pair (the broadcast form's channel-splitting reshape). Folding the context's repeat "
        "into `g` removed them (0.93× the time) and let the multiply run in INT8 (0.84× in all). Quantizing PAD "
        "moved the input QUANTIZE before the patch embeddings' padding, so XNNPACK no longer pads in float "
        "(0.91×). Old and new INT8 artifact timed interleaved: 5.63 → 4.31 ms (0.77×); fp32 7.87 → 7.82 ms. SQNR "
        "stayed at 37.5 dB on 32 CIFAR images throughout.")
    lines.append(
        "- Tried for XNNPACK on 2026-11-24 (one-off experiments, xxs, 2 threads, forms timed interleaved in one "
        "process; not re-run by these scripts). Ablations of the TFLite fp32 deploy model (each part removed, timing "
        "only): the row-banded 7×7 depthwise was 18 % of the time (a single 5×5 pass: 3 %), the channel norms 7 %, "
        "GELU 5 %. The dilated ≤25-tap split of the depthwise (now the deploy form) took 0.94× (fp32) and 0.91× "
        "(INT8) of the banded time; other exact partitions of the 7×7 (a 5×5 centre plus ring parts, 4 or 5 parts "
        "sized for XNNPACK's 9- and 4-tap kernels) measured within 1 % of it. Ideas that measured no better: INT8 "
        "depthwise (ExecuTorch 6.42 vs 5.73 ms; TFLite 6.41 vs 5.83 ms), INT8 residual adds (same speed, SQNR 31.2 "
        "vs 37.5 dB; quantizing every ADD left 23 undelegated), INT8 norm multiplies, INT8 transposes, dynamic-range "
        "INT8 convs in TFLite (6.05 vs 5.55 ms), LiteRT's `experimental_default_delegate_latest_features` (6.09 vs "
        "6.04 ms), a pad-then-valid banded depthwise (1.12× slower). Computing the norm's variance as E[x²]−E[x]² "
        "(one pass fewer) measured 0.97× but cancels badly in fp16, so it was not adopted.")
    return lines


def measured_on() -> list[str]:
    """Which CPU (and kernel flags) each result file was measured on: hosts here differ (Intel with
    AMX-INT8, AMD with AVX-512 VNNI, AMD with AVX2 only) and INT8 speed depends on exactly that."""
    lines = ["| result | CPU | kernel flags | date |", "|---|---|---|---|"]
    for path in sorted(RES.glob("*.json")):
        d = json.loads(path.read_text())
        m = d.get("machine") or {}
        flags = m.get("cpu_flags")
        flags = ", ".join(flags) if flags else ("none of them" if flags == [] else "not recorded (before #26)")
        lines.append(f"| {path.stem} | {m.get('cpu', '?')} | {flags} | {d.get('date', '–')} |")
    rows = (json.loads((RES / "latency.json").read_text()).get("rows") or []) if (RES / "latency.json").is_file() else []
    cpus = sorted({r.get("cpu", "?") for r in rows})
    if len(cpus) > 1:
        lines += ["", f"The latency table mixes runs: its rows name their CPU ({'; '.join(cpus)}). Compare ratios "
                      "within a row or between rows of one CPU, never milliseconds across CPUs."]
    return lines


def cost_section(lat: dict | None) -> list[str]:
    """The INT8 artifacts' cost report (effmod.cost), from the manifests latency.py exported."""
    rows = [r for r in (lat or {}).get("rows", []) if r.get("cost_int8")]
    if not rows:
        return ["_needs results/latency.json from a run after #26 (rows with cost_int8)_"]
    lines = ["| variant | runtime | INT8 MACs | float islands | Q/DQ converts | nodes (int8) | nodes (fp32) | "
             "partitions | outside the delegate |", "|---|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        c, f = r["cost_int8"], r.get("cost_fp32") or {}
        outside = ", ".join(f"{k} ×{v}" for k, v in c["outside_delegate"].items()) or "none"
        lines.append(f"| {r['variant'].removeprefix('efficientmod_')} | {r['target']} | {c['int8_mac_share']:.0%} | "
                     f"{c['float_islands']} | {c['converts']} | {c['nodes']} | {f.get('nodes', '–')} | "
                     f"{c['partitions'] if c['partitions'] is not None else '–'} | {outside} |")
    return lines + ["", "Counted in each artifact's own graph (ExecuTorch: the lowered program), so these transfer "
                        "to phones where milliseconds do not: on ARM the INT8 MACs are cheaper still (dot product, "
                        "i8mm) and every float island, convert and node weighs more."]


def tried_for_26() -> list[str]:
    """Issue #26's leads as measured (one-off experiments, not re-run by these scripts)."""
    return [
        "- **ONNX: quantizing the multiplies (and adds) too**, so tensors would stay INT8 between convs "
        "(2026-12-06, xxs 224 px, AMD EPYC AVX2-only, each alone, 5 interleaved rounds, median / best round). "
        "Cost report: Conv/MatMul/Gemm only: 16 float islands, 76 converts, 449 nodes, 17.11 / 16.66 ms; + Mul: "
        "44 islands, 126 converts, 499 nodes, 17.93 / 14.74 ms; + Mul + Add: 59 islands, 120 converts, 493 nodes, "
        "16.28 / 15.30 ms. Most multiplies are the norms', between float ops: quantizing them adds Q/DQ pairs "
        "instead of removing them, and the timings do not separate from the noise. Not adopted.",
        "- **ONNX Runtime session options** (table above): on this host no option set beat the defaults effmod's "
        "runner uses; the NCHWc transformer off or the extended level cost the fp32 graphs 1.2–1.5×, "
        "and thread spinning off cost 1.2–1.5×.",
        "- **The norm's variance as one 1×1 conv with eps as its bias** (one op instead of MEAN, ADD and the "
        "RESHAPE litert-torch writes between them: 6 instead of 8 ops a norm in TFLite; 2026-12-06, xxs 224 px fp32, "
        "interleaved in one process, 3 runs): TFLite 13.66–16.11 vs 13.67–15.68 ms (no gain; with the mean as a conv "
        "too, 13.79–16.25), ExecuTorch 22.1–22.8 vs 12.8–13.6 ms (1.7× slower). Not adopted.",
        "- **LiteRT's `CompiledModel`** (the Python API of ai-edge-litert 2.3, CPU, XNNPACK) against the "
        "`Interpreter` effmod's runner uses: 11.07 vs 11.09 ms (xxs 224 fp32, interleaved): the same engine. "
        "With `enable_ynnpack=True` the model does not compile in this wheel (CompiledModel creation fails).",
        "- **ExecuTorch's per-call re-planning** (`xnn_reshape_runtime`, 16 % of its INT8 time on the Intel host): "
        "neither the XNNPACK partitioner's options nor the Python runtime of executorch 1.4.1 expose a setting "
        "that skips it (read in the installed package); not changed.",
        "- **What the cost report shows is left in float** (xxs INT8 at 224 px): TFLite 93 % of MACs in INT8; "
        "the rest is the 7×7 depthwise parts (3.5 %, faster in float on XNNPACK) and the attention batch-matmuls "
        "(3.3 %: XNNPACK's TFLite delegate has no INT8 BATCH_MATMUL, and quantizing it splits the graph); xs: "
        "89 % (attention 7.6 %). ExecuTorch 93 %, ONNX 100 %. On a phone these float MACs and the 29–34 float "
        "islands around the norms and GELU are what INT8 leaves behind. The deploy forms of TFLite and "
        "ExecuTorch compute 1.17× the model's MACs (the context's repeat folded into g, measured faster).",
        "- **Per MAC on this host** (kernel shares × time, xxs 224): TFLite's INT8 GEMMs 9.6 ms for 630 M MACs, "
        "its fp32 GEMMs 11.5 ms for 675 M: about 1.1× faster per MAC without a dot product.",
        "- **Sweep latency, same graph twice** (built-in model, TFLite/ExecuTorch INT8 calibrated on 32 vs 256 "
        "images: the same graph, other scales; 500 images, 5 rounds): one process per artifact and round gave "
        "1.58 vs 1.85 ms (TFLite) and 2.20 vs 1.90 ms (ExecuTorch); one process per runtime and round, the "
        "artifacts in turn, gives 1.94 vs 1.86 and 1.63 vs 1.63 ms. ONNX Runtime stays one process per artifact "
        "(its sessions slow each other 3× in one process): 2.11 vs 2.83 ms.",
        "- **Where this host stands**: the AMD EPYC measured on 2026-12-06 has AVX2 only (no VNNI, no "
        "AVX-512). ONNX Runtime's INT8 must run exact U8U8 kernels there (the default U8S8 ones saturate), so "
        "ONNX INT8 does not pay on it; TFLite's and ExecuTorch's XNNPACK INT8 kernels use 16-bit pair sums. "
        "The goals were set on a host with VNNI; the ratios below say what this host gives.",
    ]


def main() -> None:
    lat, prof, et = _load("latency"), _load("profile"), _load("export_time")
    m = (lat or prof or et or {}).get("machine", {})
    md = ["# Benchmark results", "",
          "Generated by `python benchmarks/report.py` from `benchmarks/results/`. Host: "
          f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores, {m.get('system', '')}, Python {m.get('python', '?')}; "
          + ", ".join(f"{k} {v}" for k, v in (m.get("versions") or {}).items() if v) + ".", "",
          "These machines are shared and noisy: ratios measured inside one run (interleaved) are the numbers to "
          "trust; absolute milliseconds move by ±10 % between runs (±30 % between processes on the AVX2-only "
          "AMD host). Each result names the CPU it was measured on:", "", *measured_on(), "",
          "## Issue #26 goals (xxs at 224, batch 1, 2 threads)", ""]
    if lat and lat.get("goals"):
        md += ["| goal | measured | met |", "|---|---|---|"]
        for g in lat["goals"]:
            md.append(f"| {g['goal']} | {g['measured']} | {goal_verdict(g, bold_miss=True)} |")
    else:
        md.append("_missing: run `python benchmarks/latency.py`_")
    md += ["", "## Latency: naive vs deploy vs INT8, every variant (`benchmarks/latency.py`)", "",
           _table("latency").split("\n\n| goal (xxs)")[0], "",
           "## Cost report of the INT8 artifacts (`effmod.cost`, in every manifest and `effmod bench`)", "",
           *cost_section(lat), "",
           "## ONNX Runtime session options (`benchmarks/ort_options.py`)", "", _table("ort_options"), "",
           "## XNNPACK time by kernel family (`benchmarks/kernel_shares.py`)", "", _table("kernel_shares"), "",
           "## Why", "", "### Why ExecuTorch-XNNPACK fp32 was 2× slower than ORT", "",
           *why_executorch_vs_ort(lat, prof), "",
           "### Why the deploy form gains little on ORT (LayerNorm variants)", "", *why_ort_deploy(lat, prof), "",
           "### Why INT8 is short of 3× over naive ONNX", "", *why_int8(lat, prof), "",
           "### What issue #26's leads measured", "", *tried_for_26(), "",
           "## Where the time goes (`benchmarks/profile_ops.py`)", "", _table("profile"), "",
           "## Export time (`benchmarks/export_time.py`)", "", _table("export_time"), "",
           "## INT8 per target, xxs (`benchmarks/int8.py`)", "", _table("int8"), "",
           "## Deploy form in eager PyTorch (`benchmarks/deploy_form.py`)", "", _table("deploy_form"), "",
           "## Core ML ML-program executor (`benchmarks/coreml_executor.py`)", "",
           "Not Core ML's speed: the Linux executor effmod uses to check Core ML numbers.", "",
           _table("coreml_executor"), "",
           "## Core ML executor: a chunk of images a pass (`benchmarks/coreml_batching.py`)", "",
           _table("coreml_batching"), "",
           "## effmod sweep: 1 vs 2 workers (`benchmarks/sweep_scaling.py`)", "",
           _table("sweep_scaling"), "",
           "## Reproduce", "", "```bash",
           "mkdir -p /tmp/cifar && tar xzf ../shared/datasets/cifar10-*-jpeg.tar.gz -C /tmp/cifar",
           "python benchmarks/latency.py --calib /tmp/cifar/train   # ~45 min on 2 cores, all 8 variants",
           "python benchmarks/profile_ops.py --calib /tmp/cifar/train  # needs: pip install py-spy",
           "python benchmarks/export_time.py",
           "python benchmarks/coreml_batching.py --artifacts DIR --before CHECKOUT  # see its docstring",
           "python benchmarks/sweep_scaling.py --data /tmp/cifar/test --calib /tmp/cifar/train --limit 5000 "
           "--targets onnx,tflite,coreml --shard-size 500",
           "python benchmarks/report.py", "```", ""]
    (HERE / "RESULTS.md").write_text("\n".join(md))
    print(f"wrote {HERE / 'RESULTS.md'}")


if __name__ == "__main__":
    main()

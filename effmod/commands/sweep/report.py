"""Sweep outputs: results.json, results.csv, results.md (with the INT8 goal check per target and the
agreement matrix) and pareto.png (accuracy vs latency, marker area = artifact size, Pareto front
highlighted)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

GOAL_POINTS = 0.5  # INT8 top-1 within this many points of the target's float artifact
CSV_COLUMNS = ["label", "target", "precision", "calib_size", "fallback", "status", "top1", "top5", "agreement",
               "sqnr_db", "size_mb", "latency_ms", "latency_spread", "export_seconds", "eval_seconds", "parity", "kept_float",
               "float_params_fraction", "run_by", "nodes", "latency_node", "latency_note", "reason", "key"]


def float_baseline(rows: list[dict], target: str) -> dict | None:
    ok = [r for r in rows if r["target"] == target and r["status"] == "ok"]
    for precision in ("fp32", "fp16"):
        for r in ok:
            if r["precision"] == precision:
                return r
    return None


def goal_check(rows: list[dict]) -> list[dict]:
    """Per target: the float baseline, the best INT8 row, whether it is within GOAL_POINTS, and what
    fallback bought (kept blocks, accuracy, latency cost) so a miss explains itself."""
    out = []
    for target in dict.fromkeys(r["target"] for r in rows):
        base = float_baseline(rows, target)
        int8 = [r for r in rows if r["target"] == target and r["precision"] == "int8" and r["status"] == "ok"]
        if base is None or not int8:
            continue
        best = max(int8, key=lambda r: (r["top1"], -(r["latency_ms"] or 1e9)))
        plain = [r for r in int8 if r["fallback"] == "none"]
        best_plain = max(plain, key=lambda r: r["top1"]) if plain else None
        entry = {"target": target, "float": base["label"], "float_top1": base["top1"], "best_int8": best["label"],
                 "best_int8_top1": best["top1"], "drop": round(base["top1"] - best["top1"], 3),
                 "met": base["top1"] - best["top1"] <= GOAL_POINTS,
                 "speedup_vs_float": _ratio(base.get("latency_ms"), best.get("latency_ms"))}
        if best_plain is not None and best["fallback"] != "none":
            entry["fallback"] = {"kept_float": best["kept_float"], "float_params_fraction": best["float_params_fraction"],
                                 "gain_points": round(best["top1"] - best_plain["top1"], 3),
                                 "latency_cost": _ratio(best.get("latency_ms"), best_plain.get("latency_ms"))}
        out.append(entry)
    return out


def _ratio(a, b):
    return round(a / b, 3) if a and b else None


def pareto_front(rows: list[dict]) -> list[dict]:
    """Rows with a latency that no other row beats on both latency and top-1."""
    timed = [r for r in rows if r["status"] == "ok" and r.get("latency_ms")]
    return [r for r in timed if not any(o is not r and o["latency_ms"] <= r["latency_ms"] and o["top1"] >= r["top1"]
                                        and (o["latency_ms"] < r["latency_ms"] or o["top1"] > r["top1"])
                                        for o in timed)]


def agreement_matrix(rows: list[dict], out: Path, reference: np.ndarray | None = None) -> dict | None:
    """Pairwise top-1 agreement (%) and mean logit cosine between every finished artifact of the sweep
    (and PyTorch fp32): a runtime that disagrees with all the others shows even when its accuracy looks
    fine. Reads the logits each row saved; rows without them are left out."""
    labels, logits = [], []
    if reference is not None:
        labels.append("PyTorch fp32")
        logits.append(np.asarray(reference, np.float32))
    for r in rows:
        f = r.get("logits_file")
        if r["status"] != "ok" or not f or not (out / "rows" / f).is_file():
            continue
        arr = np.load(out / "rows" / f).astype(np.float32)
        if logits and arr.shape != logits[0].shape:
            continue  # a row from another --limit: not comparable image by image
        labels.append(r["label"])
        logits.append(arr)
    if len(logits) < 2:
        return None
    top = [a.argmax(1) for a in logits]
    unit = [a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12) for a in logits]
    n = len(logits)
    agree = [[round(float(np.mean(top[i] == top[j]) * 100), 3) for j in range(n)] for i in range(n)]
    cosine = [[round(float(np.mean(np.sum(unit[i] * unit[j], axis=1))), 6) for j in range(n)] for i in range(n)]
    worst = min(((i, j) for i in range(n) for j in range(i + 1, n)), key=lambda p: agree[p[0]][p[1]])
    return {"labels": labels, "images": int(len(logits[0])), "top1_agreement": agree, "cosine": cosine,
            "lowest": {"pair": [labels[worst[0]], labels[worst[1]]], "top1_agreement": agree[worst[0]][worst[1]],
                       "cosine": cosine[worst[0]][worst[1]]}}


def write_reports(result: dict, out: Path, reference: np.ndarray | None = None) -> dict:
    rows = result["rows"]
    result["agreement_matrix"] = agreement_matrix(rows, out, reference)
    result["goal"] = goal_check(rows)
    result["pareto"] = [r["key"] for r in pareto_front(rows)]
    (out / "results.json").write_text(json.dumps(result, indent=2) + "\n")
    with open(out / "results.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({**r, "kept_float": ";".join(r.get("kept_float") or []), "nodes": ";".join(r.get("nodes") or []),
                        "export_seconds": r.get("export_seconds", r.get("export_s"))})
    (out / "results.md").write_text(markdown(result))
    files = {"json": str(out / "results.json"), "csv": str(out / "results.csv"), "md": str(out / "results.md")}
    png = plot_pareto(result, out / "pareto.png")
    if png:
        files["png"] = png
    return files


def _fmt(v, spec=".2f", none="–"):
    return none if v is None else format(v, spec)


def _engine_lines(engine: dict | None) -> list[str]:
    if not engine:
        return []
    nodes = ", ".join(f"{n['label']} ({n['cpus']} CPUs)" for n in engine["nodes"])
    return [f"Ran on {engine['kind']}: {nodes}; {engine['workers']} task(s) at a time, {engine['shards']} shards of "
            f"{engine['shard_size']} images ({engine['shards_computed']} computed in the last run). Every latency "
            f"was measured on {engine['latency_node']}, reserved whole (each row records the node's load average "
            "before and after). export s / eval s: export time (when it was exported) and wall time of the "
            "row's evaluation.", ""]


def markdown(result: dict) -> str:
    ref = result["pytorch_fp32"]
    m = result["machine"]
    lines = [
        f"# Sweep: {result['model']} ({result['weights']}), {result['images']} images of {result['data']}",
        "",
        f"PyTorch fp32: top-1 **{ref['top1']:.2f}%**, top-5 {ref['top5']:.2f}%. Input {result['img_size']} px; "
        f"calibration: {result['calib'] or 'built-in photos'}; latency: median of the artifact alone in its own "
        f"process, batch 1, {result['threads']} threads, on {m.get('cpu', '?')} "
        f"({' '.join(m.get('cpu_flags') or []) or 'no AVX2'}; {m.get('cores', '?')} cores), all artifacts timed "
        "in interleaved rounds after the evaluation: the median of the round medians, ± half the spread between "
        "rounds. "
        "Agreement = top-1 equal to PyTorch fp32's; SQNR of the logits vs PyTorch fp32.",
        "",
        *_engine_lines(result.get("engine")),
        "| combination | top-1 % | top-5 % | agreement % | SQNR dB | size MB | latency ms | export s | eval s | parity | kept float | run by |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    pareto = set(result.get("pareto", []))
    for r in result["rows"]:
        if r["status"] != "ok":
            lines.append(f"| {r['label']} | failed: {r['reason']} | | | | | | | | | | |")
            continue
        star = " ★" if r["key"] in pareto else ""
        lat = latency_cell(r)
        kept = ", ".join(r["kept_float"]) if r["kept_float"] else ""
        lines.append(f"| {r['label']}{star} | {r['top1']:.2f} | {r['top5']:.2f} | {r['agreement']:.2f} | "
                     f"{r['sqnr_db']:.1f} | {r['size_mb']:.2f} | {lat} | {_fmt(r.get('export_seconds', r.get('export_s')), '.0f')} | {_fmt(r.get('eval_seconds'), '.0f')} | {r['parity']} | "
                     f"{kept} | {r['run_by']} |")
    lines += ["", "★ on the accuracy/latency Pareto front (timed rows only).", ""]
    if result.get("goal"):
        lines += [f"## INT8 goal: top-1 within {GOAL_POINTS} points of the target's float artifact", "",
                  "| target | float | best INT8 | drop (points) | goal | INT8 speed-up | what fallback did |",
                  "|---|---|---|---:|---|---:|---|"]
        for g in result["goal"]:
            fb = g.get("fallback")
            how = "" if not fb else (f"kept {', '.join(fb['kept_float']) or 'nothing'} float "
                                     f"({_fmt(fb['float_params_fraction'], '.0%')} of weights): "
                                     f"{fb['gain_points']:+.2f} points, latency ×{_fmt(fb['latency_cost'])}")
            lines.append(f"| {g['target']} | {g['float']} {g['float_top1']:.2f}% | {g['best_int8']} "
                         f"{g['best_int8_top1']:.2f}% | {g['drop']:.2f} | {'met' if g['met'] else 'MISSED'} | "
                         f"{_fmt(g['speedup_vs_float'], '.2f')}× | {how} |")
        lines.append("")
    lines += agreement_markdown(result.get("agreement_matrix"))
    lines += cost_markdown(result["rows"])
    lines += arm64_markdown(result["rows"])
    untimed = [r for r in result["rows"] if r["status"] == "ok" and r["latency_ms"] is None]
    if untimed:
        lines += [f"Not timed: {', '.join(r['label'] for r in untimed)}: {untimed[0]['latency_note']}.", ""]
    if result.get("skipped"):
        lines += ["Not in the grid: " + "; ".join(result["skipped"]) + ".", ""]
    if result.get("unreadable"):
        lines += [f"{result['unreadable']} unreadable images were skipped.", ""]
    lines += ["Versions: " + ", ".join(f"{k} {v}" for k, v in result["versions"].items() if v) + ".", ""]
    return "\n".join(lines)


def latency_cell(r: dict, untimed: str = "not timed here") -> str:
    """A row's latency with ± half the spread of its rounds."""
    if r["latency_ms"] is None:
        return untimed
    spread = r.get("latency_spread")  # rows of sweeps before interleaved rounds have none
    return _fmt(r["latency_ms"]) + (f" ±{spread / 2:.0%}" if spread is not None else "")


def cost_markdown(rows: list[dict]) -> list[str]:
    """Each artifact's cost report (effmod.cost): counted in its graph, so it transfers to phones."""
    from ...cost import CostReport

    costed = [(r, CostReport.from_dict(r["cost"])) for r in rows if r["status"] == "ok" and r.get("cost")]
    if not costed:
        return []
    lines = ["## Cost report (counted in each artifact's graph; what transfers to a phone)", "",
             "| combination | INT8 MACs | float islands | Q/DQ converts | nodes | partitions | outside the delegate |",
             "|---|---:|---:|---:|---:|---:|---|"]
    for r, c in costed:
        part = "–" if c.partitions is None else str(c.partitions)
        lines.append(f"| {r['label']} | {c.int8_mac_share:.0%} | {c.float_islands} | {c.converts} | {c.nodes} | "
                     f"{part} | {c.outside_text()} |")
    return lines + [""]


def arm64_markdown(rows: list[dict]) -> list[str]:
    """--arch arm64: each row's top-1 agreement with its own x86 run, per emulated CPU."""
    arm = [r for r in rows if r.get("arm64")]
    if not arm:
        return []
    cpus = list(dict.fromkeys(c["cpu"] for r in arm for c in r["arm64"].get("cpus", [])))
    lines = ["## On emulated ARM cores (aarch64 runtimes under QEMU)", "",
             "Top-1 agreement of each row's artifact, run by the aarch64 build of its runtime, with its own x86 "
             "run on the first images of the set (a check of the arithmetic, not of speed).", "",
             "| combination | images | " + " | ".join(cpus) + " |", "|---|---:|" + "---:|" * len(cpus)]
    for r in arm:
        a = r["arm64"]
        if a["status"] != "done":
            lines.append(f"| {r['label']} | not run: {a['reason']} |" + " |" * len(cpus))
            continue
        by = {c["cpu"]: f"{c['top1_agreement_vs_x86']:.1%} ({c['kernel_family']})" for c in a["cpus"]}
        lines.append(f"| {r['label']} | {a['images']} | " + " | ".join(by.get(c, "") for c in cpus) + " |")
    return lines + [""]


def agreement_markdown(m: dict | None) -> list[str]:
    if not m:
        return []
    short = [f"({i})" for i in range(len(m["labels"]))]
    lines = [f"## Agreement matrix (top-1 agreement %, {m['images']} images; lower triangle: mean logit cosine)", "",
             "| | " + " | ".join(short) + " |", "|---|" + "---|" * len(short)]
    for i, label in enumerate(m["labels"]):
        cells = [f"{m['top1_agreement'][i][j]:.2f}" if j >= i else f"{m['cosine'][i][j]:.5f}" for j in range(len(short))]
        lines.append(f"| ({i}) {label} | " + " | ".join(cells) + " |")
    lo = m["lowest"]
    return lines + ["", f"Lowest agreement: {lo['pair'][0]} vs {lo['pair'][1]}, {lo['top1_agreement']:.2f} % "
                        f"(cosine {lo['cosine']:.5f}).", ""]


def plot_pareto(result: dict, path: Path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None  # results.md says the same; pip install 'effmod[sweep]' for the plot
    rows = [r for r in result["rows"] if r["status"] == "ok" and r.get("latency_ms")]
    front = {r["key"] for r in pareto_front(rows)}
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    from ...targets import TARGETS

    colours = {t.name: t.colour for t in TARGETS}
    markers = {"fp32": "o", "fp16": "s", "int8": "^", "int8-weights": "D"}
    for r in rows:
        ax.scatter(r["latency_ms"], r["top1"], s=20 + 25 * r["size_mb"], c=colours.get(r["target"], "grey"),
                   marker=markers.get(r["precision"], "o"), alpha=0.75,
                   edgecolors="black" if r["key"] in front else "none", linewidths=1.5)
        ax.annotate(r["label"].replace(" · ", " "), (r["latency_ms"], r["top1"]), fontsize=6,
                    xytext=(4, 3), textcoords="offset points")
    pts = sorted((r["latency_ms"], r["top1"]) for r in rows if r["key"] in front)
    if pts:
        ax.step([p[0] for p in pts], [p[1] for p in pts], where="post", color="black", lw=1, ls="--",
                label="Pareto front")
    ax.axhline(result["pytorch_fp32"]["top1"], color="grey", lw=0.8, ls=":", label="PyTorch fp32")
    for t, c in colours.items():
        if any(r["target"] == t for r in rows):
            ax.scatter([], [], c=c, label=t)
    ax.set_xlabel(f"median latency, ms (batch 1, {result['threads']} threads, this host)")
    ax.set_ylabel("top-1 %")
    untimed = sorted({r["target"] for r in result["rows"] if r["status"] == "ok" and r.get("latency_ms") is None})
    note = f"; not timed here: {', '.join(untimed)}" if untimed else ""
    ax.set_title(f"{result['model']}: accuracy vs latency (marker area ∝ size){note}", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)

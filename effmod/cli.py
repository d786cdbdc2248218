"""Command line: argparse and output tables only; the work is in ``effmod.commands``.
``effmod {export,validate,quantize-report,bench,train,sweep,package,doctor,models}`` and ``effmod-export``.

Errors print as one line (plus a table where one helps) and exit non-zero; ``--debug`` shows the
traceback and the converters' own output instead.
"""
from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import warnings
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from .console import ConsoleReporter, make_console
from .errors import EffmodError
from .precision import PRECISIONS


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", required=True, action="append",
                   help="coreml, tflite, executorch, onnx or all (repeatable)")
    p.add_argument("--model", default="efficientmod_xxs", help="model name (effmod models lists them)")
    p.add_argument("--weights", default="auto",
                   help="checkpoint (.pth/.pt/.safetensors, official or effmod), a built-in tag (cifar10), "
                        "'none' for random init, or auto (default: the model's built-in weights, if any)")
    p.add_argument("--num-classes", type=int, help="default: from the weights, else 1000")
    p.add_argument("--img-size", type=int, help="input size, a multiple of 32 (default: from the weights, else 224)")
    p.add_argument("--precision", choices=PRECISIONS,
                   help="default: fp16 for coreml, fp32 elsewhere; int8: post-training quantization; "
                        "int8-weights: coreml only")
    p.add_argument("--quantize", choices=PRECISIONS, metavar="PRECISION",
                   help="an alias of --precision (--quantize int8 is --precision int8)")
    p.add_argument("--calib", help="INT8: folder of calibration images (ImageFolder or flat; default: built-in photos, with a warning)")
    p.add_argument("--calib-size", type=int, default=256, help="INT8: number of calibration images (default 256)")
    p.add_argument("--keep-float", action="append", default=[], metavar="PATTERN",
                   help="INT8 (executorch, coreml): keep a kind (attention, norm, dw, head) or module glob in float")
    _bound_args(p)
    p.add_argument("--seed", type=int, default=0, help="calibration sampling seed")
    p.add_argument("--io", choices=["float", "int8"], default="float",
                   help="tflite INT8: integer graph input/output (scale and zero point in the manifest)")
    p.add_argument("--auto-fallback", action="store_true",
                   help="INT8 (executorch, coreml): keep the most sensitive blocks in float until --fallback-sqnr is met")
    p.add_argument("--fallback-sqnr", type=float, default=30.0,
                   help="--auto-fallback's goal: SQNR dB vs fp32 of the fake-quantized model (default 30)")
    p.add_argument("--no-deploy-form", action="store_true", help="convert the official graph as-is (for comparison)")
    p.add_argument("--image-input", action="store_true", help="coreml: RGB ImageType input with preprocessing built in")
    p.add_argument("--dynamic-batch", action="store_true", help="onnx: dynamic batch dimension")
    p.add_argument("--output", default="effmod-out", help="output directory (default: effmod-out)")
    p.add_argument("--validate-data", help="folder of images of the model's classes for the parity check (default: the "
                                           "validation sample shipped with the weights, else built-in photos)")
    p.add_argument("--threads", type=int, help="runtime threads for the parity run")
    p.add_argument("--force", action="store_true", help="overwrite existing artifacts")
    p.add_argument("--json", help="also write the manifests of this run to this JSON file")


def _bound_args(p: argparse.ArgumentParser) -> None:
    """Parity bounds (docs/parity.md): correctness vs the reference that computes the same thing, and
    quality (top-1 agreement with fp32 on in-distribution data)."""
    p.add_argument("--max-abs", type=float, help="correctness: max |logit error| vs PyTorch (fp32 default 1e-4)")
    p.add_argument("--min-cosine", type=float, help="correctness: worst-sample cosine vs PyTorch (fp16 default 0.9999)")
    p.add_argument("--min-sqnr", type=float,
                   help="correctness: SQNR dB vs the simulated quantized reference (INT8 default per target)")
    p.add_argument("--min-agreement", type=float,
                   help="quality: top-1 agreement with the fp32 model on in-distribution data (INT8 default 0.93)")


def _bounds(args) -> dict:
    names = {"max_abs": "max_abs", "min_cosine": "cosine", "min_sqnr": "sqnr_db", "min_agreement": "top1_agreement"}
    return {metric: getattr(args, arg) for arg, metric in names.items() if getattr(args, arg, None) is not None}


def _model_args(p: argparse.ArgumentParser) -> None:
    """Model selection shared by quantize-report and sweep (export has its own, longer help)."""
    p.add_argument("--model", default="efficientmod_xxs")
    p.add_argument("--weights", default="auto",
                   help="checkpoint, built-in tag (cifar10), 'none', or auto (default: the model's built-in weights)")
    p.add_argument("--num-classes", type=int, help="default: from the weights, else 1000")
    p.add_argument("--img-size", type=int, help="default: from the weights, else 224")


def _common(p: argparse.ArgumentParser, top: bool = False) -> None:
    # SUPPRESS on sub-commands so `effmod --debug export` and `effmod export --debug` both work.
    p.add_argument("--debug", action="store_true", default=False if top else argparse.SUPPRESS,
                   help="show tracebacks and converter output")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="effmod", description="EfficientMod from checkpoint to phone.")
    _common(parser, top=True)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export", help="export Core ML / TFLite / ExecuTorch / ONNX artifacts with parity checks")
    _export_args(p)
    _common(p)
    p = sub.add_parser("validate", help="re-run the parity check of an artifact in its runtime")
    p.add_argument("artifact")
    p.add_argument("--model", help="model name (default: from the manifest)")
    p.add_argument("--weights", help="checkpoint (default: from the manifest)")
    p.add_argument("--num-classes", type=int)
    p.add_argument("--data", help="folder of images of the model's classes (default: the weights' validation sample)")
    p.add_argument("--calib", help="INT8: the export's calibration images, when they are no longer where the "
                                   "manifest says (the simulated reference is rebuilt with them)")
    _bound_args(p)
    p.add_argument("--threads", type=int)
    p.add_argument("--json", help="write the parity result to this JSON file")
    _common(p)
    p = sub.add_parser("debug", help="compare an artifact with PyTorch block by block (and op by op for Core ML)")
    p.add_argument("artifact")
    p.add_argument("--data", help="folder of images of the model's classes (default: the weights' validation sample)")
    p.add_argument("--images", type=int, default=32, help="images to compare (default 32)")
    p.add_argument("--threshold-db", type=float,
                   help="a block diverges below this SQNR (default: fp32 80, fp16 45, INT8 vs its reference 15)")
    p.add_argument("--calib", help="INT8: the export's calibration images, if they moved")
    p.add_argument("--json", help="write the report to this JSON file")
    _common(p)
    p = sub.add_parser("bench", help="latency of artifacts in their runtimes (each in its own process), or on a phone via adb")
    p.add_argument("artifacts", nargs="+", metavar="ARTIFACT")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=10)
    p.add_argument("--runs", type=int, default=100)
    p.add_argument("--json", help="write the results to this JSON file")
    p.add_argument("--adb", action="store_true", help="run on an Android phone with the runtime's benchmark binary")
    p.add_argument("--serial", help="adb device serial")
    p.add_argument("--runner", help="with --adb: benchmark_model (.tflite) or executor_runner (.pte) built for the phone")
    p.add_argument("--adb-path", default="adb", help="adb executable (default: adb on PATH)")
    _common(p)
    p = sub.add_parser("quantize-report", help="per-block INT8 sensitivity (SQNR vs fp32) on calibration images")
    _model_args(p)
    p.add_argument("--target", default="executorch", help="executorch or coreml (their INT8 recipes)")
    p.add_argument("--calib", help="folder of calibration images (default: built-in photos, with a warning)")
    p.add_argument("--calib-size", type=int, default=96)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default="effmod-out", help="where the JSON and Markdown report go")
    _common(p)
    p = sub.add_parser("train", help="train or fine-tune a model on ImageFolder data (resumable)")
    p.add_argument("--model", default="efficientmod_xxs")
    p.add_argument("--data", required=True, help="training folder: DATA/<class>/<image>")
    p.add_argument("--val", help="validation folder with the same class sub-folders")
    p.add_argument("--weights", help="start from this checkpoint or built-in tag (e.g. official ImageNet weights; a new head is made)")
    p.add_argument("--img-size", type=int, default=64, help="training resolution, a multiple of 32 (default 64)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=2e-3, help="AdamW peak learning rate (default 2e-3)")
    p.add_argument("--weight-decay", type=float, default=0.05)
    p.add_argument("--warmup-epochs", type=float, default=2.0)
    p.add_argument("--label-smoothing", type=float, default=0.1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--threads", type=int, help="CPU threads (default: all)")
    p.add_argument("--limit-train", type=int, help="use a class-balanced subset (smoke runs)")
    p.add_argument("--limit-val", type=int)
    p.add_argument("--output", default="runs/train", help="run folder: last.pth, model.pth, log.json, log.md")
    p.add_argument("--resume", action="store_true", help="continue the run in --output from its last epoch")
    p.add_argument("--run-epochs", type=int, help="train at most N epochs in this invocation (continue later with --resume)")
    _common(p)
    p = sub.add_parser("sweep", help="accuracy/latency/size of every target x precision x calibration x fallback on labelled data")
    _model_args(p)
    p.add_argument("--data", required=True, help="evaluation folder DATA/<class>/<image> with the model's classes")
    p.add_argument("--calib", help="INT8 calibration folder (default: built-in photos, with a warning)")
    p.add_argument("--targets", default="onnx,tflite,executorch,coreml")
    p.add_argument("--precisions", default="fp32,fp16,int8", help="from fp32,fp16,int8,int8-weights")
    p.add_argument("--calib-sizes", default="32,256")
    p.add_argument("--fallback", default="none,auto", help="none, auto or none,auto (auto: executorch, coreml)")
    p.add_argument("--limit", type=int, help="evaluate a class-balanced subset of N images")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bench-runs", type=int, default=50, help="timed runs per artifact (default 50)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default="effmod-sweep")
    p.add_argument("--resume", action="store_true", help="keep finished rows and shards of a killed sweep in --output")
    p.add_argument("--ray-address", help="join a running Ray cluster: auto or HOST:PORT (default: start a local "
                                         "Ray instance sized to this machine)")
    p.add_argument("--no-ray", action="store_true", help="run every task in this process, one at a time")
    p.add_argument("--workers", type=int, help="tasks in flight at most (default: the cluster's CPUs // --threads)")
    p.add_argument("--cache", help="exports and decoded images (default: --output); on a cluster an absolute "
                                   "path every node sees")
    p.add_argument("--shard-size", type=int, default=1000, help="images per evaluation task (default 1000)")
    p.add_argument("--force", action="store_true", help="discard earlier results in --output")
    _common(p)
    p = sub.add_parser("package", help="fill the iOS or Android demo app with an exported artifact")
    p.add_argument("--app", required=True, choices=["ios", "android"])
    p.add_argument("--artifact", required=True, help=".mlpackage (ios), .tflite or .pte (android), with its manifest beside it")
    p.add_argument("--output", help="where the project goes (default: effmod-app-APP)")
    p.add_argument("--name", default="EffmodDemo", help="app name (letters, digits, _)")
    p.add_argument("--templates", help="effmod's apps/ folder (default: the checkout effmod runs from)")
    p.add_argument("--force", action="store_true", help="replace an existing project")
    _common(p)
    p = sub.add_parser("doctor", help="check installed versions and which targets work here")
    _common(p)
    p = sub.add_parser("models", help="list model names")
    _common(p)
    return parser


def _cmd_export(args, console) -> int:
    from .commands.export import ExportOptions, run_export

    thresholds = _bounds(args)
    # --quantize is an alias of --precision: both may be given only when they agree.
    if args.quantize and args.precision and args.precision != args.quantize:
        raise EffmodError(f"--quantize {args.quantize} contradicts --precision {args.precision}", hint="give one of them")
    precision = args.quantize or args.precision
    if (args.calib or args.keep_float or args.auto_fallback) and precision != "int8":
        raise EffmodError("--calib/--keep-float/--auto-fallback only apply to INT8 exports", hint="add --quantize int8")
    targets = [t for arg in args.target for t in arg.split(",") if t]
    opts = ExportOptions(targets=targets, model=args.model, weights=args.weights, num_classes=args.num_classes,
                         img_size=args.img_size, precision=precision,
                         deploy_form=not args.no_deploy_form, calib=args.calib, calib_size=args.calib_size,
                         keep_float=args.keep_float, seed=args.seed, auto_fallback=args.auto_fallback,
                         fallback_sqnr=args.fallback_sqnr, io=args.io,
                         image_input=args.image_input, output=args.output, validate_data=args.validate_data,
                         force=args.force, dynamic_batch=args.dynamic_batch, thresholds=thresholds,
                         threads=args.threads)
    manifests = run_export(opts, ConsoleReporter(console, debug=args.debug))
    _print_export_table(console, manifests)
    if args.json:
        Path(args.json).write_text(json.dumps([m.to_dict(with_path=True) for m in manifests], indent=2) + "\n")
    failed = [m for m in manifests if m.parity.status == "failed"]
    for m in failed:
        console.print(f"[red]parity failed[/] for {m.target}: " + "; ".join(m.parity.failures)
                      + " (artifact kept, marked failed in its manifest)")
    return 2 if failed else 0


def _gate_cell(g) -> str:
    colour = {"passed": "green", "failed": "red"}.get(g.status, "yellow")
    m = g.metrics
    if "sqnr_db" in g.bounds:
        shown = f"SQNR {m.sqnr_db:.1f} dB"
    elif "max_abs" in g.bounds:
        shown = f"max|Δ| {m.max_abs:.1e}"
    elif "cosine" in g.bounds:
        shown = f"cos {m.cosine:.6f}"
    else:
        shown = f"top-1 {m.top1_agreement:.1%} (SQNR {m.sqnr_db:.1f} dB)"
    return f"[{colour}]{g.status}[/] {shown}"


def _parity_cell(p) -> str:
    return f"correctness {_gate_cell(p.correctness)}; quality {_gate_cell(p.quality)}"


def _print_export_table(console, manifests) -> None:
    table = Table(title="effmod export")
    for col in ("target", "precision", "size", "export s", "parity vs PyTorch", "run by", "delegation", "artifact"):
        table.add_column(col)
    for m in manifests:
        d = m.delegation
        deleg = f"{d.delegated_nodes}/{d.total_nodes} {d.delegate}" if d else "-"
        table.add_row(m.target, m.precision, f"{m.artifact_bytes / 1e6:.1f} MB", f"{m.export_seconds:.1f}",
                      _parity_cell(m.parity), m.parity.engine, deleg, Path(m.path).name)
    console.print(table)
    if manifests:
        console.print(f"artifacts and manifests (<artifact>.json) in {Path(manifests[0].path).parent}")


def _cmd_validate(args, console) -> int:
    from .commands.validate import validate_artifact

    result = validate_artifact(args.artifact, model=args.model, weights=args.weights, num_classes=args.num_classes,
                               data=args.data, threads=args.threads, calib=args.calib, overrides=_bounds(args),
                               reporter=ConsoleReporter(console, debug=args.debug))
    table = Table(title=f"effmod validate {args.artifact}: {result.data}, run by {result.engine}")
    for col in ("gate", "against", "status", "bounds", "max|Δ|", "cosine", "SQNR dB", "top-1 agr.", "top-5 agr."):
        table.add_column(col)
    gates = [("correctness", result.correctness), ("quality", result.quality)]
    if result.rebuild is not None:
        gates.append(("rebuild", result.rebuild))
    for name, g in gates:
        m = g.metrics
        colour = {"passed": "green", "failed": "red"}.get(g.status, "yellow")
        table.add_row(name, g.reference, f"[{colour}]{g.status}[/]", ", ".join(f"{k} {v:g}" for k, v in g.bounds.items()),
                      f"{m.max_abs:.2e}", f"{m.cosine:.6f}", f"{m.sqnr_db:.1f}", f"{m.top1_agreement:.1%}",
                      f"{m.top5_agreement:.1%}")
    console.print(table)
    if result.quality.note:
        console.print(f"[yellow]note:[/] {result.quality.note}")
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    if result.status == "failed":
        console.print("[red]parity failed:[/] " + "; ".join(result.failures))
        return 2
    return 0


def _cmd_debug(args, console) -> int:
    from .commands.debug import debug_artifact

    report = debug_artifact(args.artifact, data=args.data, threshold_db=args.threshold_db, images=args.images,
                            calib=args.calib, reporter=ConsoleReporter(console, debug=args.debug))
    table = Table(title=f"effmod debug {Path(report.artifact).name}: blocks vs {report.reference}")
    cols = ["block", "SQNR dB", "max|Δ|", "cosine", "growth dB"] + (["SQNR vs fp32"] if any(
        r.sqnr_vs_fp32_db is not None for r in report.blocks) else [])
    for col in cols:
        table.add_column(col)
    for r in report.blocks:
        mark = r.block == report.first_divergent
        style = "bold red" if mark else ("red" if r.below_threshold else "")
        cells = [r.block + (" ← first below threshold" if mark else ""), f"{r.sqnr_db:.1f}", f"{r.max_abs:.3g}",
                 f"{r.cosine:.6f}", "" if r.growth_db is None else f"{r.growth_db:+.1f}"]
        if len(cols) == 6:
            cells.append("" if r.sqnr_vs_fp32_db is None else f"{r.sqnr_vs_fp32_db:.1f}")
        table.add_row(*cells, style=style)
    console.print(table)
    console.print(f"artifact side: {report.artifact_side}")
    console.print(f"data: {report.n_images} images; {report.data}")
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")
    if report.first_divergent:
        console.print(f"[red]first divergence:[/] {report.first_divergent} (SQNR below {report.threshold_db:g} dB); "
                      f"largest growth in {report.largest_growth}")
    else:
        console.print(f"[green]no block below {report.threshold_db:g} dB[/]; largest growth in {report.largest_growth}")
    if report.first_op_jump:
        o = report.first_op_jump
        console.print(f"first op whose error jumps: MIL op #{o.index} '{o.mil_name}' ({o.op_type}) from PyTorch module "
                      f"'{o.module}': {o.drop_db:.1f} dB lost there, {o.sqnr_db:.1f} dB after it")
    if report.first_non_finite:
        console.print(f"[red]first non-finite value:[/] {report.first_non_finite}")
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2) + "\n")
        console.print(f"report: {args.json}")
    return 2 if report.first_divergent else 0


def _cmd_quantize_report(args, console) -> int:
    from .commands.quantize_report import ReportOptions, run_report, write_report

    opts = ReportOptions(model=args.model, weights=args.weights, num_classes=args.num_classes, img_size=args.img_size,
                         target=args.target, calib=args.calib, calib_size=args.calib_size, seed=args.seed,
                         output=args.output)
    result = run_report(opts, ConsoleReporter(console, debug=args.debug))
    base = result["all_quantized"]
    table = Table(title=f"INT8 sensitivity, {args.model} ({args.target}): all quantized {base['sqnr_db']:.1f} dB "
                        f"vs fp32; most sensitive first")
    for col in ("rank", "unit", "kind", "SQNR dB, only this unit INT8", "top-1 agr."):
        table.add_column(col)
    for i, r in enumerate(result["units"]):
        table.add_row(str(i + 1), r["unit"], r["kind"], f"{r['sqnr_db']:.1f}", f"{r['top1_agreement']:.0%}")
    console.print(table)
    jpath, mpath = write_report(result, args.output)
    console.print(f"report: {jpath} and {mpath}; keep units in float with --keep-float UNIT or let --auto-fallback choose")
    return 0


def _cmd_bench(args, console) -> int:
    from .commands.bench import bench
    from .machine import machine_info

    if args.adb:
        from .commands.bench_adb import bench_adb

        if not args.runner:
            raise EffmodError("--adb needs --runner PATH", hint="LiteRT benchmark_model for .tflite, ExecuTorch "
                                                               "executor_runner for .pte (effmod never downloads one)")
        rows = [bench_adb(a, args.runner, args.serial, args.threads, args.warmup, args.runs, args.adb_path)
                for a in args.artifacts]
    else:
        for a in args.artifacts:
            if not Path(a).exists():
                raise EffmodError(f"artifact not found: {a}")
        rows = []
        with console.status("timing ..."):
            for a in args.artifacts:
                rows.append(bench(a, args.threads, args.warmup, args.runs))
                console.print(f"[green]✓[/] {Path(a).name}")
    m = machine_info()
    where = f"adb device {rows[0]['device']['model']}" if args.adb else f"{m['cpu']}, {m['cores']} cores"
    table = Table(title=f"effmod bench: {where}, {args.threads} threads, {args.runs} runs after {args.warmup} warm-up")
    cols = ("artifact", "runtime", "load ms", "first ms", "median ms", "p90 ms", "min ms", "max ms", "peak RSS MB")
    for c in cols:
        table.add_column(c)
    fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    for r in rows:
        if r["status"] != "ok":
            table.add_row(Path(r["artifact"]).name, r.get("runtime", "?"), f"[yellow]{r['status']}[/]: {r['reason']}",
                          *["-"] * 6)
            continue
        table.add_row(Path(r["artifact"]).name, r["runtime"], fmt(r.get("load_ms")), fmt(r.get("first_ms")),
                      fmt(r.get("median_ms") or r.get("mean_ms")), fmt(r.get("p90_ms")), fmt(r.get("min_ms")),
                      fmt(r.get("max_ms")), fmt(r.get("peak_rss_mb")))
    console.print(table)
    if args.adb and any(r.get("median_ms") is None for r in rows):
        console.print("median column shows the mean where the phone's runner prints no median")
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": m, "results": rows}, indent=2) + "\n")
    return 1 if any(r["status"] == "failed" for r in rows) else 0


def _cmd_doctor(args, console) -> int:
    from .commands.doctor import run_doctor

    return run_doctor(console)


def _cmd_train(args, console) -> int:
    from .commands.train import TrainConfig, train

    cfg = TrainConfig(model=args.model, train_dir=args.data, val_dir=args.val, output=args.output,
                      img_size=args.img_size, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                      weight_decay=args.weight_decay, warmup_epochs=args.warmup_epochs,
                      label_smoothing=args.label_smoothing, weights=args.weights, seed=args.seed,
                      device=args.device, threads=args.threads, run_epochs=args.run_epochs, limit_train=args.limit_train,
                      limit_val=args.limit_val)
    final = train(cfg, resume=args.resume, reporter=ConsoleReporter(console, debug=True))
    if final:
        val = f", val top-1 {final['val_top1']:.2f}%" if "val_top1" in final else ""
        console.print(f"done: epoch {final['epoch']}{val}; weights: {Path(args.output) / 'model.pth'} "
                      f"(use --weights {Path(args.output) / 'model.pth'})")
    return 0


def _split(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _cmd_sweep(args, console) -> int:
    from .commands.sweep import SweepOptions, run_sweep

    try:
        sizes = [int(v) for v in _split(args.calib_sizes)]
    except ValueError:
        raise EffmodError(f"--calib-sizes '{args.calib_sizes}' is not a list of integers", hint="e.g. --calib-sizes 32,256") from None
    opts = SweepOptions(model=args.model, data=args.data, weights=args.weights, num_classes=args.num_classes,
                        img_size=args.img_size, calib=args.calib, targets=_split(args.targets),
                        precisions=_split(args.precisions), calib_sizes=sizes, fallbacks=_split(args.fallback),
                        limit=args.limit, output=args.output, resume=args.resume, force=args.force,
                        threads=args.threads, seed=args.seed, bench_runs=args.bench_runs,
                        ray_address=args.ray_address, no_ray=args.no_ray, workers=args.workers, cache=args.cache,
                        shard_size=args.shard_size)
    result = run_sweep(opts, ConsoleReporter(console, debug=args.debug))
    table = Table(title=f"sweep: {args.model}, {result['images']} images; PyTorch fp32 top-1 "
                        f"{result['pytorch_fp32']['top1']:.2f}%")
    for col in ("combination", "top-1 %", "agree %", "SQNR dB", "MB", "ms", "kept float"):
        table.add_column(col)
    for r in result["rows"]:
        if r["status"] != "ok":
            table.add_row(r["label"], f"[red]failed[/] {escape(r['reason'][:60])}", "", "", "", "", "")
            continue
        table.add_row(r["label"], f"{r['top1']:.2f}", f"{r['agreement']:.2f}", f"{r['sqnr_db']:.1f}",
                      f"{r['size_mb']:.1f}", f"{r['latency_ms']:.2f}" if r["latency_ms"] is not None else "not timed",
                      ", ".join(r["kept_float"]))
    console.print(table)
    for g in result["goal"]:
        verdict = "[green]met[/]" if g["met"] else "[red]MISSED[/]"
        console.print(f"INT8 goal ({g['target']}): best {g['best_int8']} {g['best_int8_top1']:.2f}% vs "
                      f"{g['float_top1']:.2f}% float, drop {g['drop']:.2f} points: {verdict}")
    console.print("results: " + ", ".join(result["files"].values()))
    failed = [r for r in result["rows"] if r["status"] != "ok"]
    return 2 if failed else 0


def _cmd_package(args, console) -> int:
    from .console import captured_output
    from .commands.package import package_app

    with console.status("running the artifact on the sample photos for the self-test ..."), \
            captured_output(not args.debug):
        info = package_app(args.app, args.artifact, output=args.output, name=args.name, force=args.force,
                           templates=args.templates)
    test = info["config"]["self_test"]
    console.print(f"[green]✓[/] {args.app} project: {info['project']}")
    console.print(f"  model, config, labels and self-test sample in {info['bundle']}")
    console.print(f"  self-test expects top-1 {test['expected_top1']} '{test['expected_label']}' "
                  f"({test['expected_score']:.1%}) on {test['source_photo']}, computed with {test['computed_with']}")
    opener = "Open the .swiftpm folder in Xcode 15+" if args.app == "ios" else "Open the folder in Android Studio"
    console.print(f"  {opener} and run on a phone. Not built or run here: no Xcode / Android SDK on this machine.")
    return 0


def _cmd_models(args, console) -> int:
    from .models import list_models

    for name in list_models():
        console.print(name)
    return 0


COMMANDS = {"export": _cmd_export, "validate": _cmd_validate, "debug": _cmd_debug, "doctor": _cmd_doctor, "models": _cmd_models,
            "quantize-report": _cmd_quantize_report, "bench": _cmd_bench, "train": _cmd_train,
            "package": _cmd_package, "sweep": _cmd_sweep}


def _terminate(signum, frame):
    # SIGTERM unwinds like Ctrl-C, so every build folder's cleanup (finally) runs before the exit.
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    console = make_console()
    debug = args.debug
    if not debug:
        warnings.filterwarnings("ignore")
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _terminate)
    try:
        return COMMANDS[args.command](args, console)
    except EffmodError as e:
        if debug:
            raise
        console.print(f"[red]error:[/] {escape(e.one_line())}", soft_wrap=True)  # paths and extras hold [ ]
        if e.details:
            console.print(e.details, markup=False, highlight=False, soft_wrap=True)
        return e.exit_code
    except KeyboardInterrupt:
        console.print("[red]interrupted[/]: nothing half-written was left at the output paths")
        return 130
    except SystemExit as e:
        if e.code == 128 + signal.SIGTERM:
            console.print("[red]terminated[/]: nothing half-written was left at the output paths")
        raise
    except Exception as e:  # noqa: BLE001 - last resort: still one line without --debug
        if debug:
            raise
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        console.print(f"[red]error:[/] unexpected {type(e).__name__}: {escape(first)} (rerun with --debug for the traceback)",
                      soft_wrap=True)
        return 1


def export_main(argv: list[str] | None = None) -> int:
    """``effmod-export ...`` is ``effmod export ...``."""
    argv = sys.argv[1:] if argv is None else argv
    return main(["export", *argv])


if __name__ == "__main__":
    sys.exit(main())

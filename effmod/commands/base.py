"""What every command is (``Command``: its name, help, arguments and run) and the options several share.

A command module holds its arguments, its run (calling a library below ``commands/``) and its output;
``effmod.cli`` builds the parser from ``COMMANDS`` and dispatches. Library imports happen inside
``run``, so ``effmod --help`` never imports torch."""
from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from rich.console import Console



@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace, Console], int]   # returns the exit code


def debug_option(p: argparse.ArgumentParser, top: bool = False) -> None:
    # SUPPRESS on sub-commands so `effmod --debug export` and `effmod export --debug` both work.
    p.add_argument("--debug", action="store_true", default=False if top else argparse.SUPPRESS,
                   help="show tracebacks and converter output")


def model_options(p: argparse.ArgumentParser, img_size: bool = True) -> None:
    p.add_argument("--model", default="efficientmod_xxs", help="model name (effmod models lists them)")
    p.add_argument("--weights", default="auto",
                   help="checkpoint (.pth/.pt/.safetensors, official or effmod), a built-in tag (cifar10), "
                        "'none' for random init, or auto (default: the model's built-in weights, if any)")
    p.add_argument("--num-classes", type=int, help="default: from the weights, else 1000")
    if img_size:
        p.add_argument("--img-size", type=int, help="input size, a multiple of 32 (default: from the weights, "
                                                           "else 224)")


def threads_option(p: argparse.ArgumentParser, default: int | None = None, what: str = "runtime threads") -> None:
    p.add_argument("--threads", type=int, default=default,
                   help=what + (f" (default {default})" if default else ""))


def json_option(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--json", help=f"write {what} to this JSON file")


def bound_options(p: argparse.ArgumentParser) -> None:
    """Parity bounds (docs/parity.md): correctness vs the reference that computes the same thing, and
    quality (top-1 agreement with fp32 on in-distribution data)."""
    p.add_argument("--max-abs", type=float, help="correctness: max |logit error| vs PyTorch (fp32 default 1e-4)")
    p.add_argument("--min-cosine", type=float, help="correctness: worst-sample cosine vs PyTorch (fp16 default 0.9999)")
    p.add_argument("--min-sqnr", type=float,
                   help="correctness: SQNR dB vs the simulated quantized reference (INT8 default per target)")
    p.add_argument("--min-agreement", type=float,
                   help="quality: top-1 agreement with the fp32 model on in-distribution data (INT8 default 0.93)")


def bounds(args: argparse.Namespace) -> dict[str, float]:
    names = {"max_abs": "max_abs", "min_cosine": "cosine", "min_sqnr": "sqnr_db", "min_agreement": "top1_agreement"}
    return {metric: getattr(args, arg) for arg, metric in names.items() if getattr(args, arg, None) is not None}


def write_json(path: str | None, data) -> None:
    if path:
        Path(path).write_text(json.dumps(data, indent=2) + "\n")


def split_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def arch_options(p: argparse.ArgumentParser) -> None:
    """--arch arm64: also run the artifact in the aarch64 build of its runtime under QEMU, per CPU."""
    p.add_argument("--arch", choices=["x86", "arm64"], default="x86",
                   help="arm64: also run the artifact in the aarch64 build of its runtime under QEMU user-mode, "
                        "once per emulated CPU (docs/arm64.md)")
    p.add_argument("--cpu", help="with --arch arm64: comma-separated QEMU CPU models (default: cortex-a53, "
                                 "cortex-a55, cortex-a710: plain NEON, dot product, i8mm)")
    p.add_argument("--arm-images", type=int, help="with --arch arm64: at most this many of the parity images "
                                                  "(default: all of them)")


def arm64_request(args: argparse.Namespace):
    """The ARM check asked for, or None; --cpu/--arm-images without --arch arm64 are refused."""
    from ..errors import EffmodError

    if args.arch != "arm64":
        if args.cpu or args.arm_images is not None:
            raise EffmodError("--cpu and --arm-images apply to --arch arm64", hint="add --arch arm64")
        return None
    from ..pipeline.arm64 import Arm64Request

    if args.arm_images is not None and args.arm_images < 1:
        raise EffmodError(f"--arm-images must be at least 1 (got {args.arm_images})", hint="e.g. --arm-images 50")
    cpus = tuple(split_list(args.cpu)) if args.cpu else Arm64Request().cpus
    return Arm64Request(cpus=cpus, images=args.arm_images, threads=args.threads or 2)


def arm64_table(arm):
    """The --arch arm64 result: one row per group of CPUs whose logits are bit-identical."""
    from rich.table import Table

    table = Table(title=f"arm64: {arm.runtime} under {arm.emulator}, {arm.data}")
    for col in ("CPUs", "kernels", "status", "correctness", "quality", "max|Δ| vs x86", "logits ≠ x86",
                "top-1 = x86", "SQNR vs x86 dB", "emulated s"):
        table.add_column(col)
    leaders = [c for c in arm.cpus if c.same_as is None]
    for c in leaders:
        group = [c.cpu] + [o.cpu for o in arm.cpus if o.same_as == c.cpu]
        families = sorted({c.kernel_family} | {o.kernel_family for o in arm.cpus if o.same_as == c.cpu})
        colour = "green" if c.status == "passed" else "red"
        table.add_row(", ".join(group), ", ".join(families), f"[{colour}]{c.status}[/]", c.correctness.status,
                      c.quality.status, f"{c.max_abs_vs_x86:.3g}", f"{c.logits_differ}/{c.logits}",
                      f"{c.top1_agreement_vs_x86:.1%}", f"{c.sqnr_vs_x86_db:.1f}", f"{c.seconds:.1f}")
    return table


# Every numeric option of every command is checked before any work: one line naming it, with an example.
# option dest -> (lowest valid value, a valid example)
WHOLE_NUMBERS = {
    "threads": (1, "--threads 2"), "workers": (1, "--workers 4"), "limit": (1, "--limit 1000"),
    "shard_size": (1, "--shard-size 1000"), "runs": (1, "--runs 100"), "warmup": (0, "--warmup 10"),
    "bench_runs": (0, "--bench-runs 50"), "latency_rounds": (1, "--latency-rounds 5"), "calib_size": (1, "--calib-size 256"), "num_classes": (1, "--num-classes 10"),
    "images": (1, "--images 32"), "arm_images": (1, "--arm-images 50"), "epochs": (1, "--epochs 30"),
    "batch_size": (1, "--batch-size 128"), "run_epochs": (1, "--run-epochs 5"), "limit_train": (1, "--limit-train 5000"),
    "limit_val": (1, "--limit-val 1000"), "timeout": (1, "--timeout 3600"),
}
# float options -> (low, high, low inclusive, example)
FRACTIONS = {"lr": (0.0, None, False, "--lr 2e-3"), "weight_decay": (0.0, None, True, "--weight-decay 0.05"),
             "warmup_epochs": (0.0, None, True, "--warmup-epochs 2"),
             "label_smoothing": (0.0, 1.0, True, "--label-smoothing 0.1"),
             "min_agreement": (0.0, 1.0, True, "--min-agreement 0.93"), "min_cosine": (-1.0, 1.0, True, "--min-cosine 0.9999"),
             "max_abs": (0.0, None, True, "--max-abs 1e-4")}  # 0 asks for bit-exact logits


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def check_numbers(args: argparse.Namespace) -> None:
    """Refuse a bad number before any work (EffmodError: one line, exit 1)."""
    from ..errors import EffmodError

    values = vars(args)
    for dest, (low, example) in WHOLE_NUMBERS.items():
        v = values.get(dest)
        if v is not None and v < low:
            what = "a positive number" if low == 1 else "0 or more"
            raise EffmodError(f"{_flag(dest)} must be {what}, not {v}", hint=f"e.g. {example}")
    size = values.get("img_size")
    if size is not None and (size < 32 or size % 32):
        raise EffmodError(f"--img-size must be a positive multiple of 32, not {size}", hint="e.g. --img-size 224")
    for dest, (low, high, inclusive, example) in FRACTIONS.items():
        v = values.get(dest)
        if v is None:
            continue
        if v != v or (v < low if inclusive else v <= low) or (high is not None and v > high):
            span = f"{'at least' if inclusive else 'above'} {low:g}" + (f" and at most {high:g}" if high is not None else "")
            raise EffmodError(f"{_flag(dest)} must be {span}, not {v:g}", hint=f"e.g. {example}")

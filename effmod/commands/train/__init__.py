"""``effmod train``: train or fine-tune EfficientMod on ImageFolder data (``loop.py``), resumable."""
from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from ..base import Command, threads_option


def add_arguments(p: argparse.ArgumentParser) -> None:
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
    threads_option(p, what="CPU threads (default: all)")
    p.add_argument("--limit-train", type=int, help="use a class-balanced subset (smoke runs)")
    p.add_argument("--limit-val", type=int)
    p.add_argument("--output", default="runs/train", help="run folder: last.pth, model.pth, log.json, log.md")
    p.add_argument("--resume", action="store_true", help="continue the run in --output from its last epoch")
    p.add_argument("--run-epochs", type=int, help="train at most N epochs in this invocation (continue later with --resume)")


def run(args: argparse.Namespace, console: Console) -> int:
    from ...console import ConsoleReporter
    from .loop import TrainConfig, train

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


COMMAND = Command("train", "train or fine-tune a model on ImageFolder data (resumable)", add_arguments, run)

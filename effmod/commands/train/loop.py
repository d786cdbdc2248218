"""``effmod train``: AdamW + warmup/cosine, label smoothing, light augmentation, a checkpoint every
epoch, exact resume. CPU or CUDA. Writes ``last.pth`` (resume state), ``model.pth`` (weights +
data config, loadable by ``create_model(weights=...)``) and ``log.json``/``log.md`` (per-epoch)."""
from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
import torch
import torch.nn.functional as F

from ...console import NullReporter, Reporter
from ...errors import EffmodError
from ...eval.data_config import DataConfig, imagenet_data_config
from ...eval.datasets import LabelledImages, load_labelled_images, normalize
from ...models import create_model
from ...models.pretrained import VALIDATION_SUFFIX
from .augment import random_crop_flip

# Fields that define a run: resuming with other values would silently train a different model.
RUN_DEFINING = ("model", "img_size", "epochs", "batch_size", "lr", "weight_decay", "warmup_epochs",
                "label_smoothing", "weights", "seed", "train_dir")


@dataclass
class TrainConfig:
    model: str
    train_dir: str
    val_dir: str | None = None
    output: str = "runs/train"
    img_size: int = 64
    epochs: int = 30
    batch_size: int = 128
    lr: float = 2e-3
    weight_decay: float = 0.05
    warmup_epochs: float = 2.0
    label_smoothing: float = 0.1
    crop_pad: int | None = None          # default: img_size // 8
    weights: str | None = None           # fine-tune from this checkpoint (new head if the classes differ)
    seed: int = 0
    device: str = "auto"
    threads: int | None = None
    run_epochs: int | None = None        # train at most this many epochs now (CPU runs split over sessions)
    limit_train: int | None = None       # for smoke tests
    limit_val: int | None = None
    extra: dict = field(default_factory=dict)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise EffmodError("--device cuda asked for, but torch sees no CUDA device", hint="use --device cpu")
    return torch.device(name)


def lr_at(step: int, total_steps: int, warmup_steps: int, base_lr: float) -> float:
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    t = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return base_lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    # No decay on norms, biases and LayerScale gammas (all 1-D), as in DeiT/timm.
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim <= 1 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


@torch.no_grad()
def evaluate(model: torch.nn.Module, data: LabelledImages, data_config: DataConfig, device: torch.device,
             batch_size: int = 256) -> dict:
    model.eval()
    correct = correct5 = 0
    loss_sum = 0.0
    for start in range(0, len(data), batch_size):
        idx = slice(start, start + batch_size)
        x = data.normalized(idx, data_config).to(device)
        y = data.labels[idx].to(device)
        logits = model(x).float()
        loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
        top5 = logits.topk(min(5, logits.shape[1]), dim=1).indices
        correct += (top5[:, 0] == y).sum().item()
        correct5 += (top5 == y[:, None]).any(dim=1).sum().item()
    n = len(data)
    return {"top1": 100.0 * correct / n, "top5": 100.0 * correct5 / n, "loss": loss_sum / n}


def _atomic_save(obj, path: Path) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _check_resume(saved: dict, cfg: TrainConfig) -> None:
    diffs = [f"{k}: run has {saved[k]!r}, now {getattr(cfg, k)!r}" for k in RUN_DEFINING
             if k in saved and saved[k] != getattr(cfg, k)]
    if diffs:
        raise EffmodError("--resume with settings that differ from the run being resumed (" + "; ".join(diffs) + ")",
                          hint="pass the same settings, or start a new run with another --output")


def _resume_state(last: Path, cfg: TrainConfig) -> dict:
    if not last.is_file():
        raise EffmodError(f"--resume: no {last} to resume from", hint="drop --resume to start a new run")
    try:
        # effmod's own resume file (optimizer and RNG states need full pickling)
        state = torch.load(last, map_location="cpu", weights_only=False)
        saved = state["config"]
    except Exception as e:  # noqa: BLE001 - a damaged file is reported with the way out
        raise EffmodError(f"{last} is not a readable effmod training state ({type(e).__name__})",
                          hint="delete it to start again, or pass another --output") from None
    _check_resume(saved, cfg)
    return state


def _restore(state: dict, model, opt, gen) -> tuple[list[dict], int]:
    """Model, optimizer and random states of a resumed run; its log and last finished epoch."""
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    gen.set_state(state["generator"])
    torch.set_rng_state(state["torch_rng"])
    return state["log"], state["epoch"]


def _decode(cfg: TrainConfig, data_config: DataConfig, progress, say):
    """The training images and, with --val, the validation images (same classes), decoded once."""
    with progress("decode train images", None) as update:
        train_data = load_labelled_images(cfg.train_dir, data_config, limit=cfg.limit_train, progress=update)
    val_data = None
    if cfg.val_dir:
        with progress("decode val images", None) as update:
            val_data = load_labelled_images(cfg.val_dir, data_config, limit=cfg.limit_val, progress=update,
                                            expected_classes=train_data.classes)
    for name, d in (("train", train_data), ("val", val_data)):
        if d is not None and d.unreadable:
            say(f"[yellow]warning:[/] {len(d.unreadable)} unreadable {name} images skipped (first: {d.unreadable[0]})")
    return train_data, val_data


def train(cfg: TrainConfig, resume: bool = False, reporter: Reporter | None = None) -> dict:
    """Train (or resume) and return the final log entry; progress and per-epoch lines go to ``reporter``."""
    out = Path(cfg.output)
    out.mkdir(parents=True, exist_ok=True)
    device = pick_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    reporter = reporter or NullReporter()
    say = reporter.line
    progress = lambda name, total: reporter.progress(name, total, keep=False)  # noqa: E731

    state = _resume_state(out / "last.pth", cfg) if resume else None
    data_config = imagenet_data_config(labels=False).with_input_size(cfg.img_size)  # checks the multiple of 32
    data_config = replace(data_config, crop_pct=1.0, interpolation="bilinear")
    train_data, val_data = _decode(cfg, data_config, progress, say)
    classes = train_data.classes
    data_config = replace(data_config.with_labels(classes),
                          dataset=f"{cfg.train_dir} ({len(classes)} classes, {len(train_data)} images)")
    write_validation_sample(val_data or train_data, out / "model.pth")

    torch.manual_seed(cfg.seed)  # the head's (or the whole model's) initialisation
    model = create_model(cfg.model, num_classes=len(classes), weights=cfg.weights, img_size=cfg.img_size)
    model.info = model.info.replace(data_config=data_config)
    model.to(device)
    opt = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=cfg.lr, betas=(0.9, 0.999))
    steps_per_epoch = max(1, len(train_data) // cfg.batch_size)  # drop the last partial batch
    total_steps = steps_per_epoch * cfg.epochs
    warmup_steps = int(cfg.warmup_epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(cfg.seed)
    log: list[dict] = []
    start_epoch = 0
    if state is not None:
        log, start_epoch = _restore(state, model, opt, gen)
        say(f"resumed {out / 'last.pth'} after epoch {start_epoch}/{cfg.epochs}")
    if start_epoch >= cfg.epochs:
        say(f"run already finished ({cfg.epochs} epochs); nothing to do")
        return log[-1] if log else {}

    pad = cfg.crop_pad if cfg.crop_pad is not None else cfg.img_size // 8
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()
    stop = cfg.epochs if cfg.run_epochs is None else min(cfg.epochs, start_epoch + cfg.run_epochs)
    for epoch in range(start_epoch, stop):
        model.train()
        t0 = time.perf_counter()
        perm = torch.randperm(len(train_data), generator=gen)
        loss_sum, correct, seen = 0.0, 0, 0
        with progress(f"epoch {epoch + 1}/{cfg.epochs}", steps_per_epoch) as update:
            for i in range(steps_per_epoch):
                step = epoch * steps_per_epoch + i
                for g in opt.param_groups:
                    g["lr"] = lr_at(step, total_steps, warmup_steps, cfg.lr)
                idx = perm[i * cfg.batch_size:(i + 1) * cfg.batch_size]
                x = random_crop_flip(train_data.images[idx], pad, gen)
                x = normalize(x, data_config).to(device, non_blocking=True)
                y = train_data.labels[idx].to(device)
                with amp:
                    logits = model(x)
                    loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing)
                if not torch.isfinite(loss):
                    raise EffmodError(f"training diverged at epoch {epoch + 1}, step {i}: loss is {loss.item()}",
                                      hint="lower --lr (e.g. half) and start again, or --resume from the last good epoch")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
                opt.step()
                loss_sum += loss.item() * len(idx)
                correct += (logits.argmax(1) == y).sum().item()
                seen += len(idx)
                update(i + 1, None)
        entry = {"epoch": epoch + 1, "lr": opt.param_groups[0]["lr"], "train_loss": loss_sum / seen,
                 "train_top1": 100.0 * correct / seen, "epoch_s": time.perf_counter() - t0}
        if val_data is not None:
            entry.update({f"val_{k}": v for k, v in evaluate(model, val_data, data_config, device).items()})
        log.append(entry)
        _save(out, model, opt, gen, cfg, log, epoch + 1, data_config, device)
        say(_format_entry(entry, cfg.epochs))
    if stop < cfg.epochs:
        say(f"stopped after epoch {stop}/{cfg.epochs} as asked; continue with --resume")
    return log[-1]


SAMPLE_SIZE = 200


def write_validation_sample(data: LabelledImages, weights_file: Path, size: int = SAMPLE_SIZE) -> Path:
    """Copy a class-balanced sample of the original image files to ``model.val/<class>/`` beside the
    weights, so later exports of this checkpoint check parity on data that fits it (not on stock photos)."""
    dest = weights_file.with_suffix(VALIDATION_SUFFIX)
    if dest.is_dir():
        return dest
    per_class: dict[int, list[Path]] = {}
    for path, label in zip(data.paths, data.labels.tolist()):
        per_class.setdefault(label, []).append(path)
    take = max(1, size // max(1, len(per_class)))
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    for label, paths in per_class.items():
        (tmp / data.classes[label]).mkdir(parents=True)
        step = max(1, len(paths) // take)
        for p in paths[::step][:take]:
            shutil.copy2(p, tmp / data.classes[label] / p.name)
    os.replace(tmp, dest)
    return dest


def _save(out: Path, model, opt, gen, cfg: TrainConfig, log, epoch, data_config, device) -> None:
    cpu_state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    _atomic_save({"model": cpu_state, "optimizer": opt.state_dict(), "generator": gen.get_state(),
                  "torch_rng": torch.get_rng_state(), "log": log, "epoch": epoch, "config": asdict(cfg)},
                 out / "last.pth")
    _atomic_save({"state_dict": cpu_state, "arch": cfg.model, "num_classes": model.num_classes,
                  "data_config": data_config.to_dict(), "epoch": epoch,
                  "val_top1": log[-1].get("val_top1")}, out / "model.pth")
    (out / "log.json").write_text(json.dumps({"config": asdict(cfg), "device": str(device),
                                              "epochs": log}, indent=2))
    (out / "log.md").write_text(log_markdown(log))


def log_markdown(log: list[dict]) -> str:
    lines = ["| epoch | lr | train loss | train top-1 % | val loss | val top-1 % | val top-5 % | epoch s |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for e in log:
        lines.append(f"| {e['epoch']} | {e['lr']:.2e} | {e['train_loss']:.3f} | {e['train_top1']:.2f} | "
                     f"{e.get('val_loss', float('nan')):.3f} | {e.get('val_top1', float('nan')):.2f} | "
                     f"{e.get('val_top5', float('nan')):.2f} | {e['epoch_s']:.0f} |")
    return "\n".join(lines) + "\n"


def _format_entry(e: dict, epochs: int) -> str:
    val = f"  val top-1 {e['val_top1']:.2f}%  top-5 {e['val_top5']:.2f}%" if "val_top1" in e else ""
    return (f"epoch {e['epoch']}/{epochs}  loss {e['train_loss']:.3f}  train top-1 {e['train_top1']:.2f}%"
            f"{val}  ({e['epoch_s']:.0f}s)")

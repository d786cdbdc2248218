"""Turn a finished ``effmod train`` run into a shippable weights file plus a model card.

The card records what a reader needs to trust the number: the exact command, hardware, wall time,
the per-epoch log, and top-1/top-5 measured by loading the *shipped file* through ``create_model``.
"""
from __future__ import annotations

import json
import os
import platform
from pathlib import Path

import torch

from ...eval.datasets import load_labelled_images
from ...machine import machine_info
from ...models import create_model
from .loop import evaluate, log_markdown


def publish(run_dir: str | Path, dest: str | Path, test_dir: str | Path, command: str, tag: str) -> dict:
    run_dir, dest = Path(run_dir), Path(dest)
    ckpt = torch.load(run_dir / "model.pth", map_location="cpu", weights_only=True)
    log = json.loads((run_dir / "log.json").read_text())
    payload = {k: ckpt[k] for k in ("arch", "num_classes", "data_config", "epoch")}
    payload["state_dict"] = {k: v.float().contiguous() for k, v in ckpt["state_dict"].items()}
    tmp = dest.with_suffix(".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, dest)

    model = create_model(payload["arch"], weights=str(dest))  # exactly what users get
    data_config = model.info.data_config
    data = load_labelled_images(test_dir, data_config, expected_classes=list(data_config.labels))
    metrics = evaluate(model, data, data_config, torch.device("cpu"))
    epochs = log["epochs"]
    card = {
        "tag": tag, "model": payload["arch"], "file": dest.name, "bytes": dest.stat().st_size,
        "params": sum(v.numel() for v in payload["state_dict"].values()),
        "test_top1": round(metrics["top1"], 2), "test_top5": round(metrics["top5"], 2), "test_images": len(data),
        "test_unreadable": len(data.unreadable), "epochs": len(epochs),
        "train_hours": round(sum(e["epoch_s"] for e in epochs) / 3600, 2),
        "command": command, "config": log["config"], "device": log["device"],
        "machine": machine_info(), "python": platform.python_version(), "torch": torch.__version__,
        "data_config": {k: v for k, v in data_config.to_dict().items() if k != "labels"},
        "labels": list(data_config.labels),
    }
    dest.with_suffix(".json").write_text(json.dumps({**card, "log": epochs}, indent=2) + "\n")
    dest.with_name(f"MODEL_CARD_{dest.stem}.md").write_text(card_markdown(card, epochs))
    return card


def card_markdown(card: dict, epochs: list[dict]) -> str:
    dc, m = card["data_config"], card["machine"]
    return "\n".join([
        f"# Model card: {card['model']} · `{card['tag']}`",
        "",
        f"- **Use:** `create_model(\"{card['model']}\", num_classes={len(card['labels'])}, weights=\"{card['tag']}\")`, "
        f"or `--weights {card['tag']}` on any effmod command (the default of `effmod export` for this model).",
        f"- **Task:** CIFAR-10 classification, classes (label order): {', '.join(card['labels'])}.",
        f"- **Test accuracy (10k CIFAR-10 test JPEGs, measured by loading this file):** top-1 **{card['test_top1']:.2f}%**, "
        f"top-5 {card['test_top5']:.2f}% on {card['test_images']} images.",
        "- The CIFAR-10 copy is JPEG-recompressed (quality 75), so numbers are not comparable with published "
        "CIFAR-10 results; float vs quantized comparisons on it are sound.",
        f"- **Input:** {dc['input_size'][1]}×{dc['input_size'][2]} RGB: the 32×32 images upsampled "
        f"({dc['interpolation']}, crop_pct {dc['crop_pct']}), scaled to [0, 1], mean {list(dc['mean'])}, std {list(dc['std'])}.",
        f"- **Architecture:** the unchanged official EfficientMod-xxs with a 10-class head, "
        f"{card['params'] / 1e6:.2f}M parameters; file {card['bytes'] / 1e6:.1f} MB (fp32).",
        f"- **Training:** from scratch, {card['epochs']} epochs, {card['train_hours']:.2f} h on {card['device']} "
        f"({m.get('cpu', '?')}, {m.get('cores', '?')} cores; other work shared the cores at times). AdamW "
        f"lr {card['config']['lr']}, weight decay {card['config']['weight_decay']}, batch {card['config']['batch_size']}, "
        f"{card['config']['warmup_epochs']} warm-up epochs then cosine, label smoothing {card['config']['label_smoothing']}, "
        "random crop (reflect pad 1/8) + horizontal flip. torch " + card["torch"] + ".",
        "",
        "```",
        card["command"],
        "```",
        "",
        "## Per-epoch log",
        "",
        log_markdown(epochs),
        "",
        "Limits: trained on 50k 32×32 images, so it knows the 10 CIFAR classes at thumbnail quality. "
        "It is a reference for measuring conversions and quantization, not a general-purpose classifier.",
        "",
    ])

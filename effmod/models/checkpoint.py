"""Loading official-format checkpoints (.pth/.pth.tar/.pt, raw or wrapped) and .safetensors files."""
from __future__ import annotations

import argparse
import hashlib
import pickle
from pathlib import Path

import torch
import torch.nn as nn

from ..errors import EffmodError, first_line

# Keys under which training scripts (timm, DeiT, the official release) wrap the weights.
WRAPPER_KEYS = ("state_dict", "model", "state_dict_ema", "model_ema")


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Return the flat tensor state dict stored in ``path`` (unwrapped, ``module.`` prefix stripped)."""
    return read_checkpoint(path)[0]


# Metadata effmod's trainer stores beside the weights; create_model uses it for defaults.
META_KEYS = ("arch", "num_classes", "data_config", "epoch", "val_top1")


def read_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """(state dict, metadata): metadata holds whichever of META_KEYS the file's top level has."""
    path = Path(path)
    if path.is_dir():
        raise EffmodError(f"{path} is a directory, not a weights file", hint="pass a .pth/.pt/.safetensors file")
    if not path.is_file():
        raise EffmodError(f"weights file not found: {path}", hint="pass a .pth/.pt/.safetensors path")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        try:
            obj = load_file(str(path))
        except Exception as e:  # noqa: BLE001 - any parse failure of a user's file is that file's problem
            raise EffmodError(f"{path} is not a readable .safetensors file ({first_line(e)})",
                              hint="re-save it, or pass the original checkpoint") from None
    else:
        try:
            # weights_only: never execute code from a checkpoint; timm-style files also pickle args.
            with torch.serialization.safe_globals([argparse.Namespace]):
                obj = torch.load(path, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as e:
            # weights_only refuses pickles that would run code: say so, never load them another way
            raise EffmodError(f"{path} is not a PyTorch checkpoint effmod can read: {first_line(e)}",
                              hint="expected a state dict saved with torch.save") from None
        except Exception as e:  # noqa: BLE001 - text files, truncations and bit flips surface as many types
            raise EffmodError(f"{path} is not a PyTorch checkpoint ({first_line(e)})",
                              hint="expected a state dict saved with torch.save; is the file complete?") from None
    meta = {k: obj[k] for k in META_KEYS if isinstance(obj, dict) and k in obj} if isinstance(obj, dict) else {}
    n = meta.get("num_classes")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise EffmodError(f"{path} records num_classes {n!r}, not a positive integer",
                          hint="re-save it with effmod train, or save only the state dict")
    return _unwrap(obj, path), meta


def _unwrap(obj, path: Path) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in WRAPPER_KEYS:
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise EffmodError(f"{path} holds no tensor state dict",
                          hint=f"expected a dict of tensors, possibly under one of {', '.join(WRAPPER_KEYS)}")
    if all(k.startswith("module.") for k in obj):
        obj = {k[len("module."):]: v for k, v in obj.items()}
    return obj


def mismatch_table(rows: list[tuple[str, str, str, str]]) -> str:
    """Plain-text table of (key, problem, expected, found); shown under the one-line error."""
    head = ("key", "problem", "model expects", "checkpoint has")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(4)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    lines = [fmt.format(*head), fmt.format(*("-" * w for w in widths))]
    lines += [fmt.format(*r) for r in rows[:40]]
    if len(rows) > 40:
        lines.append(f"... and {len(rows) - 40} more")
    return "\n".join(lines)


def load_into(model: nn.Module, state: dict[str, torch.Tensor], source: str = "checkpoint") -> list[str]:
    """Load ``state`` into ``model`` strictly, except that a classifier head of another size is
    skipped (fine-tuning with a new head). Returns notes for the user; raises with a table on mismatch."""
    own = model.state_dict()
    notes: list[str] = []
    head_keys = {k for k in own if k.startswith("head.")}
    head_mismatch = [k for k in head_keys if k in state and state[k].shape != own[k].shape]
    if head_mismatch:
        n_ckpt = state["head.weight"].shape[0] if "head.weight" in state else "?"
        notes.append(f"{source} has a {n_ckpt}-class head; the model has {model.num_classes} classes, "
                     "so every weight but the head was loaded (head left at its initialisation)")
        state = {k: v for k, v in state.items() if k not in head_keys}
    rows = []
    for k, v in own.items():
        if k not in state:
            if k in head_keys and head_mismatch:
                continue
            rows.append((k, "missing", _shape(v), "-"))
        elif state[k].shape != v.shape:
            rows.append((k, "shape", _shape(v), _shape(state[k])))
    rows += [(k, "unexpected", "-", _shape(v)) for k, v in state.items() if k not in own]
    if rows:
        n_missing = sum(r[1] == "missing" for r in rows)
        n_shape = sum(r[1] == "shape" for r in rows)
        n_unexp = sum(r[1] == "unexpected" for r in rows)
        raise EffmodError(
            f"{source} does not fit {getattr(model, 'variant', type(model).__name__)}: "
            f"{n_missing} missing, {n_unexp} unexpected, {n_shape} mis-shaped keys",
            hint="check --model matches the checkpoint's architecture",
            details=mismatch_table(rows),
        )
    model.load_state_dict(state, strict=not head_mismatch)
    return notes


def _shape(t: torch.Tensor) -> str:
    return "x".join(map(str, t.shape)) or "scalar"

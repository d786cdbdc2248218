"""Light augmentation on uint8 batches: random crop from a reflect-padded image, horizontal flip.

Done on whole batches in the training process (no DataLoader workers): on a 2-core host the
model, not the augmentation, must get the cores.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def random_crop_flip(images_u8: torch.Tensor, pad: int, generator: torch.Generator) -> torch.Tensor:
    n, _, h, w = images_u8.shape
    flip = torch.rand(n, generator=generator) < 0.5
    if pad <= 0:
        out = images_u8.clone()
    else:
        # reflect padding needs float; uint8 values survive the round trip exactly.
        padded = F.pad(images_u8.float(), (pad, pad, pad, pad), mode="reflect").to(torch.uint8)
        dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).tolist()
        dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator).tolist()
        out = torch.stack([padded[i, :, y:y + h, x:x + w] for i, (y, x) in enumerate(zip(dy, dx))])
    out[flip] = out[flip].flip(-1)
    return out

"""``effmod sweep --arch arm64``: which INT8 recipe survives phone kernels. After the rows are done, each
row's artifact runs in the aarch64 build of its runtime under QEMU, per emulated CPU, on the first images
of the evaluation set, and the row records its top-1 agreement with its own x86 run on those images."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ...console import Reporter
from ...manifest import Manifest
from ...pipeline.arm64 import Arm64Request
from ...targets import by_name
from .work import Shard, SweepSpec, atomic_json, decoded_shard, load_spec_model

ARM_IMAGES = 100  # per row and CPU, unless --arm-images says otherwise: emulation is 10-50x slower


def prepare(request: Arm64Request, targets: list[str], reporter: Reporter) -> None:
    """Before the sweep starts: the toolchain of every target that has an aarch64 runtime, and the CPUs."""
    from ...emulation import check_cpus, ensure

    packages = tuple(dict.fromkeys(by_name(t).arm64.package for t in targets if by_name(t).arm64.package))
    if packages:
        check_cpus(ensure(packages, reporter.stage), list(request.cpus))


def _images(spec: SweepSpec, data_key: str, shard: Shard, n: int) -> np.ndarray:
    import torch

    from ...eval.datasets import normalize

    images, _, _ = decoded_shard(spec, data_key, shard)
    config = load_spec_model(spec).info.data_config
    return normalize(torch.from_numpy(images[:n]), config).numpy()


def _row_on_arm(row: dict, x: np.ndarray, out: Path, request: Arm64Request, reporter: Reporter) -> dict:
    from ...emulation import ensure, run_on_cpu

    target = by_name(row["target"])
    if target.arm64.worker is None:
        return {"status": "not run", "reason": target.arm64.unavailable}
    x86 = np.load(out / "rows" / row["logits_file"]).astype(np.float32)[:len(x)]
    artifact = Path(row["artifact"])
    layout = Manifest.for_artifact(artifact).input.layout or "NCHW"
    chain = ensure((target.arm64.package,))
    cpus = []
    for cpu in request.cpus:
        with reporter.stage(f"arm64: {row['label']} on emulated {cpu} ({len(x)} images)"):
            arm = run_on_cpu(chain, chain.site(target.arm64.package), target.arm64.worker, artifact, layout, x, cpu,
                             request.threads)
        cpus.append({"cpu": cpu, "kernel_family": arm.kernel_family,
                     "top1_agreement_vs_x86": round(float((arm.logits.argmax(1) == x86.argmax(1)).mean()), 4)})
    return {"status": "done", "images": len(x), "runtime": f"{target.arm64.package} {arm.runtime_version} aarch64",
            "cpus": cpus, "min_top1_agreement_vs_x86": min(c["top1_agreement_vs_x86"] for c in cpus)}


def add_arm64(rows: list[dict], spec: SweepSpec, data_key: str, shard: Shard, out: Path, request: Arm64Request,
              reporter: Reporter) -> None:
    """Each finished row gains ``arm64`` (rewritten in place, atomically)."""
    n = request.images or ARM_IMAGES
    x = _images(spec, data_key, shard, n)
    for row in rows:
        if row["status"] != "ok" or "arm64" in row:
            continue
        row["arm64"] = _row_on_arm(row, x, out, request, reporter)
        atomic_json(row, out / "rows" / f"{row['key']}.json")

"""Core ML fp16 of the built-in CIFAR-10 xxs over a whole labelled set (default: the 10k test JPEGs),
run by effmod's ML-program executor (fp16 rounding after every op), with the channel norms in the
plain form (square of x - mean) and in the scaled form Core ML exports use (ChannelNorm.scaled).

Prints a table and writes results/coreml_fp16.{json,md}: top-1 agreement with PyTorch fp32, flips,
logit SQNR and max|Δ|, and on how many images an op made inf/nan from finite inputs (and which op).

    python benchmarks/coreml_fp16.py --data ../shared/datasets/test   # an extracted test split
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, emit_table, machine_info  # noqa: E402

from effmod.console import NullReporter  # noqa: E402
from effmod.deploy import DeployOptions  # noqa: E402
from effmod.eval.datasets import load_labelled_images  # noqa: E402
from effmod.eval.metrics import compare  # noqa: E402
from effmod.models import create_model  # noqa: E402
from effmod.targets import COREML, ExportJob, load_runner  # noqa: E402
from effmod.deploy import reparameterize  # noqa: E402
from effmod.versions import installed  # noqa: E402

from effmod.targets.coreml import convert as coreml_convert  # noqa: E402

# (deploy options, ops kept fp32 in the fp16 program)
FORMS = {"plain norm, all ops fp16 (effmod before)": (DeployOptions(), ()),
         "plain norm, fused layer_norm kept fp32": (DeployOptions(), ("layer_norm",)),
         "scaled norm, all ops fp16 (Core ML default)": (COREML.deploy_options, coreml_convert.FP32_OPS)}


def evaluate(path: Path, input_spec, x: np.ndarray, reference: np.ndarray) -> dict:
    runner = load_runner(path, input_spec=input_spec, engine="executor")
    logits, origins = [], Counter()
    t0 = time.perf_counter()
    for k in range(len(x)):
        logits.append(runner(x[k:k + 1]))
        created = [e for e in runner.executor.last_stats.non_finite if e.from_finite]
        if created:
            origins[f"{created[0].op} ({created[0].kind})"] += 1
    seconds = time.perf_counter() - t0
    out = np.concatenate(logits)
    finite = np.isfinite(out).all(axis=1)
    m = compare(reference, np.where(np.isfinite(out), out, 0))
    agree = out.argmax(1) == reference.argmax(1)
    return {"images": len(x), "top1_agreement": float(agree.mean()), "flips": int((~agree).sum()),
            "sqnr_db": round(float(m.sqnr_db), 2), "max_abs": float(m.max_abs),
            "images_with_non_finite_logits": int((~finite).sum()),
            "images_where_an_op_made_inf_nan": int(sum(origins.values())),
            "first_non_finite_ops": dict(origins.most_common(3)), "seconds": round(seconds, 1),
            "engine": runner.engine}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True, help="ImageFolder of CIFAR-10 images (e.g. the extracted test split)")
    ap.add_argument("--limit", type=int, help="class-balanced subset (default: all)")
    args = ap.parse_args()
    model = create_model("efficientmod_xxs", weights="cifar10")
    dc = model.info.data_config
    data = load_labelled_images(args.data, dc, limit=args.limit, expected_classes=list(dc.labels))
    x = np.concatenate([data.normalized(slice(i, i + 500), dc).numpy() for i in range(0, len(data), 500)])
    with torch.no_grad():
        reference = np.concatenate([model(torch.from_numpy(x[i:i + 500])).numpy() for i in range(0, len(x), 500)])
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, (options, fp32_ops) in FORMS.items():
            coreml_convert.FP32_OPS = fp32_ops  # read by the converter's fp16 op selector at conversion
            deploy = reparameterize(model, options=options)
            job = ExportJob(model=deploy, example=torch.from_numpy(x[:1]), precision="fp16", data_config=dc,
                            model_name="efficientmod_xxs")
            path = Path(tmp) / f"{len(results)}.mlpackage"
            result = COREML.convert(job, path)
            results[name] = evaluate(path, result.input, x, reference)
            print(name, json.dumps(results[name]), flush=True)
    rows = [[name, f"{r['top1_agreement']:.4%}", str(r["flips"]), f"{r['sqnr_db']:.1f}", f"{r['max_abs']:.3g}",
             str(r["images_where_an_op_made_inf_nan"]), ", ".join(r["first_non_finite_ops"]) or "-"]
            for name, r in results.items()]
    OUT.mkdir(exist_ok=True)
    emit_table(f"Core ML fp16, built-in CIFAR-10 xxs, {len(x)} images of {args.data}",
               ["deploy form", "top-1 agreement", "flips", "SQNR dB", "max|Δ|", "images where an op made inf/nan",
                "first op"], rows, OUT / "coreml_fp16.md",
               "Run by effmod's ML-program executor (fp16 rounding after every op, as Core ML on CPU/GPU/ANE "
               "computes fp16; not measured on a device: no Mac here). Source: benchmarks/coreml_fp16.py.")
    (OUT / "coreml_fp16.json").write_text(json.dumps(
        {"data": str(args.data), "images": len(x), "results": results, "machine": machine_info(),
         "versions": {p: installed(p) for p in ("torch", "coremltools")}}, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""The built-in CIFAR-10 model on emulated ARM cores: every target × precision × CPU family, by
`effmod validate --arch arm64` on the first --images (default 50) of its 200-image validation sample.

    python benchmarks/arm64.py [--calib ../shared/cifar10/train] [--cpus cortex-a53,...]

Writes results/arm64.json and results/arm64.md. Emulation times say how long the check takes, never
how fast a phone is."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, emit_table, machine_info  # noqa: E402

CPUS = "cortex-a53,cortex-a55,cortex-a710,neoverse-v1,max"
PRECISIONS = {"tflite": ("fp32", "int8"), "onnx": ("fp32", "int8"), "executorch": ("fp32", "int8"),
              "coreml": ("fp16", "int8")}


def _effmod(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "effmod.cli", *args], capture_output=True, text=True)


def _export(work: Path, target: str, precision: str, calib: str | None) -> tuple[Path | None, str]:
    out = work / f"{target}_{precision}"
    extra = ["--calib", calib] if calib and precision == "int8" else []
    proc = _effmod("export", "--target", target, "--precision", precision, "--output", str(out), *extra)
    arts = [p for p in out.iterdir() if not p.name.endswith(".json")] if out.is_dir() else []
    return (arts[0] if proc.returncode == 0 and arts else None), (proc.stdout.strip().splitlines() or ["?"])[-1]


def _unavailable(target: str) -> str | None:
    from effmod.targets import by_name

    arm = by_name(target).arm64
    return None if arm.worker else arm.unavailable


def _rows(target: str, precision: str, result: dict | None, reason: str) -> list[dict]:
    if result is None or "arm64" not in result:
        return [{"target": target, "precision": precision, "cpu": "-", "status": "not run", "reason": reason}]
    arm = result["arm64"]
    return [{"target": target, "precision": precision, "cpu": c["cpu"], "family": c["kernel_family"],
             "status": c["status"], "same_as": c["same_as"], "max_abs_vs_x86": c["max_abs_vs_x86"],
             "logits_differ": c["logits_differ"], "logits": c["logits"],
             "top1_agreement_vs_x86": c["top1_agreement_vs_x86"], "sqnr_vs_x86_db": c["sqnr_vs_x86_db"],
             "correctness": c["correctness"]["status"], "quality": c["quality"]["status"],
             "emulated_s": c["seconds"], "runtime": arm["runtime"], "emulator": arm["emulator"]}
            for c in arm["cpus"]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calib", help="INT8 calibration folder (default: the built-in photos)")
    ap.add_argument("--cpus", default=CPUS)
    ap.add_argument("--images", type=int, default=50, help="parity images per CPU (emulated fp32 is slow)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    setup = _effmod("setup", "arm64")
    setup_s = time.perf_counter() - t0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for target, precisions in PRECISIONS.items():
            for precision in precisions:
                why_not = _unavailable(target)
                if why_not:
                    rows += _rows(target, precision, None, why_not)
                    continue
                art, line = _export(Path(tmp), target, precision, args.calib)
                if art is None:
                    rows += _rows(target, precision, None, f"export failed: {line}")
                    continue
                t1 = time.perf_counter()
                proc = _effmod("validate", str(art), "--arch", "arm64", "--cpu", args.cpus, "--arm-images",
                               str(args.images), "--json", str(Path(tmp) / "v.json"))
                result = json.loads((Path(tmp) / "v.json").read_text()) if proc.returncode in (0, 2) else None
                reason = (proc.stdout.strip().splitlines() or ["?"])[-1]
                for r in _rows(target, precision, result, reason.removeprefix("error: ")):
                    rows.append({**r, "validate_s": round(time.perf_counter() - t1, 1)})
                print(f"{target} {precision}: rc {proc.returncode}", flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "arm64.json").write_text(json.dumps({"machine": machine_info(), "setup_seconds": round(setup_s, 1),
                                                "setup_rc": setup.returncode, "calib": args.calib, "rows": rows},
                                               indent=2) + "\n")
    cells = [[r["target"], r["precision"], r["cpu"], r.get("family", "-"), r["status"], r.get("same_as") or "",
              f"{r['max_abs_vs_x86']:.3g}" if "max_abs_vs_x86" in r else "-",
              f"{r['logits_differ']}/{r['logits']}" if "logits" in r else "-",
              f"{r['top1_agreement_vs_x86']:.1%}" if "top1_agreement_vs_x86" in r else "-",
              f"{r['sqnr_vs_x86_db']:.1f}" if "sqnr_vs_x86_db" in r else r.get("reason", "")[:90],
              f"{r['emulated_s']:.1f}" if "emulated_s" in r else "-"] for r in rows]
    emit_table(f"built-in CIFAR-10 xxs on emulated ARM ({args.images} parity images per CPU)",
               ["target", "precision", "CPU", "kernels", "status", "bit-identical to", "max|Δ| vs x86",
                "logits ≠ x86", "top-1 = x86", "SQNR vs x86 dB", "emulated s"], cells, OUT / "arm64.md",
               f"Set-up (effmod setup arm64, rc {setup.returncode}): {setup_s:.0f} s. Host: "
               f"{machine_info()['cpu']}. Calibration: {args.calib or 'built-in photos'}.")


if __name__ == "__main__":
    main()

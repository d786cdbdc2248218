"""Where XNNPACK's time goes, by kernel: INT8 MACs vs everything else (issue #26).

TFLite (LiteRT) and ExecuTorch both run effmod's deploy form on XNNPACK, whose kernels keep their symbol
names in the wheels' shared libraries (``xnn_qs8_qc8w_gemm_..._avx2``, ``xnn_f32_dwconv_...``). Each
artifact runs in a loop in its own process under ``perf record`` (both threads); the samples are summed
per kernel family. ONNX Runtime has its own node profiler (``profile_ops.py``).

    python benchmarks/kernel_shares.py NAME=ARTIFACT ... [--seconds 8] [--threads 2] [--size 224]

Needs ``perf`` (linux-perf). Writes benchmarks/results/kernel_shares.{json,md}.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, artifacts_parser, emit_table, machine_info, named_artifacts  # noqa: E402

# (category, symbol pattern), first match wins: what kind of work each XNNPACK kernel does
FAMILIES = [
    ("INT8 MACs (conv, FC, matmul)", r"^xnn_(qs8|qu8|qd8|qc8|qp8|qdu8)\w*(gemm|igemm|dwconv|conv|ppmm)"),
    ("float MACs (conv, FC, matmul)", r"^xnn_(f32|f16|pf32)\w*(gemm|igemm|dwconv|conv|ppmm|spmm)"),
    ("Q/DQ converts", r"^xnn_\w*vcvt"),
    ("INT8 elementwise", r"^xnn_(qs8|qu8)\w*_v"),
    ("float elementwise, norms, GELU", r"^xnn_(f32|f16)\w*_(v|r|rd|raddstore)"),
    ("layout (transpose, copy, pad)", r"^(xnn_\w*(transpose|copy|pad|fill)|__mem(move|cpy|set))"),
    ("XNNPACK planning per call (reshape/setup)", r"^xnn_(reshape|setup|create|define)"),
    ("thread pool (hand-offs, spinning)", r"^(pthreadpool|thread_main|futex|__lll|sched_yield|.*(spin|wait))"),
    ("XNNPACK other", r"^xnn_"),
]

_WORKER = r"""
import sys, time, numpy as np
from effmod.targets import load_runner
r = load_runner(sys.argv[1], threads=int(sys.argv[2]))
x = np.random.default_rng(0).standard_normal((1, 3, int(sys.argv[4]), int(sys.argv[4]))).astype(np.float32)
for _ in range(10):
    r.run_batch(x)
print("ready", flush=True)  # perf attaches now: imports and loading are not sampled
end = time.time() + float(sys.argv[3]) + 2
while time.time() < end:
    r.run_batch(x)
"""


def family(symbol: str, dso: str = "") -> str:
    for name, pattern in FAMILIES:
        if re.search(pattern, symbol):
            return name
    if symbol.startswith("0x") and "portable_lib" in dso:
        return "ExecuTorch library, symbols stripped"
    return "kernel, runtime and Python (the rest)"


def profile(path: str, seconds: float, threads: int, size: int) -> dict[str, float]:
    """Share of samples per kernel family while ``path`` runs in a loop (after its warm-up)."""
    worker = subprocess.Popen([sys.executable, "-c", _WORKER, path, str(threads), str(seconds), str(size)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        if worker.stdout.readline().strip() != "ready":
            raise SystemExit(f"{path} did not run:\n{worker.stderr.read()[-2000:]}")
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "perf.data"
            rec = subprocess.run(["perf", "record", "-F", "1999", "-p", str(worker.pid), "-o", str(data), "--",
                                  "sleep", str(seconds)], capture_output=True, text=True)
            if rec.returncode != 0:
                raise SystemExit(f"perf record failed for {path}:\n{rec.stderr[-2000:]}")
            rep = subprocess.run(["perf", "report", "-i", str(data), "--no-children", "--sort", "dso,symbol",
                                  "--stdio", "-g", "none"], capture_output=True, text=True)
    finally:
        worker.kill()
        worker.wait()
    shares: dict[str, float] = {}
    for line in rep.stdout.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(\S+)", line)
        if m:
            kind = family(m.group(3), m.group(2))
            shares[kind] = shares.get(kind, 0.0) + float(m.group(1))
    return shares


def main() -> None:
    ap = artifacts_parser(__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--size", type=int, default=224)
    args = ap.parse_args()
    named = named_artifacts(args)
    results = {name: profile(path, args.seconds, args.threads, args.size) for name, path in named.items()}
    cats = [name for name, _ in FAMILIES] + ["ExecuTorch library, symbols stripped",
                                             "kernel, runtime and Python (the rest)"]
    rows = [[c, *(f"{results[n].get(c, 0.0):.1f} %" for n in named)] for c in cats]
    m = machine_info()
    footer = (f"{m['cpu']} ({', '.join(m['cpu_flags']) or 'no AVX2'}), {m['cores']} cores, {args.threads} threads, "
              f"{args.size} px, batch 1: `perf record` samples of both threads while each artifact runs in a loop "
              f"in its own process for {args.seconds:.0f} s, summed per kernel family by symbol name (XNNPACK's "
              "kernels name their datatype: qs8 = INT8, f32 = float).")
    emit_table("XNNPACK time by kernel family", ["kernel family", *named], rows, OUT / "kernel_shares.md", footer)
    (OUT / "kernel_shares.json").write_text(json.dumps({"machine": m, "threads": args.threads, "size": args.size,
                                                        "artifacts": named, "shares": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()

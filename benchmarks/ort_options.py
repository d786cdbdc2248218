"""ONNX Runtime session options measured on effmod's .onnx artifacts (issue #26's lead: spinning, the
NCHWc layout transformer, optimisation levels, one thread as the thread-pool control).

Every (artifact, option set) pair is timed alone in a fresh process, in interleaved rounds: each round
runs every pair once, in turn, so a change in the machine's speed hits all alike. A pair's number is the
median of its round medians; the spread between rounds is reported beside it.

    python benchmarks/ort_options.py NAME=ARTIFACT.onnx ... [--rounds 5] [--runs 40] [--threads 2]

Writes benchmarks/results/ort_options.{json,md}.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import OUT, artifacts_parser, emit_table, machine_info, named_artifacts  # noqa: E402

# option set -> (graph optimisation level, disabled optimizers, allow spinning, threads or None = --threads)
OPTION_SETS = {
    "default (effmod runner)": ("ORT_ENABLE_ALL", [], True, None),
    "NCHWc transformer off": ("ORT_ENABLE_ALL", ["NchwcTransformer"], True, None),
    "extended level (no layout opts)": ("ORT_ENABLE_EXTENDED", [], True, None),
    "no spinning": ("ORT_ENABLE_ALL", [], False, None),
    "1 thread": ("ORT_ENABLE_ALL", [], True, 1),
}

_WORKER = r"""
import json, statistics, sys, time
import numpy as np, onnxruntime as ort
path, level, disabled, spin, threads, runs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4] == "1", int(sys.argv[5]), int(sys.argv[6])
o = ort.SessionOptions()
o.intra_op_num_threads, o.inter_op_num_threads = threads, 1
o.graph_optimization_level = getattr(ort.GraphOptimizationLevel, level)
o.add_session_config_entry("session.x64quantprecision", "1")  # as effmod's runner (exact INT8 without VNNI)
if not spin:
    o.add_session_config_entry("session.intra_op.allow_spinning", "0")
s = ort.InferenceSession(path, o, providers=["CPUExecutionProvider"], disabled_optimizers=disabled)
i = s.get_inputs()[0]
x = np.random.default_rng(0).standard_normal([d if isinstance(d, int) else 1 for d in i.shape]).astype(np.float32)
for _ in range(10):
    s.run(None, {i.name: x})
t = []
for _ in range(runs):
    t0 = time.perf_counter(); s.run(None, {i.name: x}); t.append((time.perf_counter() - t0) * 1e3)
print(json.dumps(statistics.median(t)))
"""


def time_once(path: str, option: str, threads: int, runs: int) -> float:
    level, disabled, spin, own_threads = OPTION_SETS[option]
    proc = subprocess.run([sys.executable, "-c", _WORKER, path, level, json.dumps(disabled), "1" if spin else "0",
                           str(own_threads or threads), str(runs)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"{path} with {option} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = artifacts_parser(__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=40)
    args = ap.parse_args()
    named = named_artifacts(args)
    pairs = [(n, o) for n in named for o in OPTION_SETS]
    rounds: dict[tuple[str, str], list[float]] = {p: [] for p in pairs}
    for r in range(args.rounds):
        for name, option in pairs:
            rounds[(name, option)].append(time_once(named[name], option, args.threads, args.runs))
        print(f"round {r + 1}/{args.rounds} done", flush=True)
    rows, table = [], []
    for name, option in pairs:
        ms = rounds[(name, option)]
        mid = statistics.median(ms)
        base = statistics.median(rounds[(name, "default (effmod runner)")])
        rows.append({"artifact": name, "path": named[name], "option": option, "median_ms": round(mid, 3),
                     "rounds_ms": [round(v, 3) for v in ms], "spread": round((max(ms) - min(ms)) / mid, 4),
                     "vs_default": round(mid / base, 3)})
        table.append([name, option, f"{mid:.2f}", f"±{(max(ms) - min(ms)) / mid / 2:.0%}", f"{mid / base:.2f}×"])
    m = machine_info()
    footer = (f"{m['cpu']} ({', '.join(m['cpu_flags']) or 'no AVX2'}), {m['cores']} cores, {args.threads} threads "
              f"(except '1 thread'); onnxruntime {m['versions'].get('onnxruntime')}. Each pair alone in a fresh "
              f"process, {args.runs} runs after 10 warm-up, {args.rounds} interleaved rounds: median of the round "
              "medians, ± half the spread between rounds; 'vs default' divides by the same artifact's default.")
    emit_table("ONNX Runtime session options", ["artifact", "option set", "ms", "spread", "vs default"], table,
               OUT / "ort_options.md", footer)
    (OUT / "ort_options.json").write_text(json.dumps({"machine": m, "rounds": args.rounds, "runs": args.runs,
                                                      "threads": args.threads, "rows": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()

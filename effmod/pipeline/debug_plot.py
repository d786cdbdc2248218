"""``effmod debug --json F`` also writes ``F.png``: SQNR per block against the judging reference (and, for
INT8, against PyTorch fp32), with the threshold and the first divergent block marked."""
from __future__ import annotations

from pathlib import Path


def plot_blocks(report, path: Path) -> str | None:
    """The PNG's path, or None when matplotlib is missing (pip install 'effmod[sweep]')."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = report.blocks
    names = [r.block for r in rows]
    cap = lambda v: min(v, 150.0)  # noqa: E731 - bit-identical blocks are inf dB
    fig, ax = plt.subplots(figsize=(max(6.0, 0.38 * len(rows)), 5.2), dpi=110)
    reference = report.reference if len(report.reference) <= 90 else report.reference[:89] + "…"
    ax.plot(range(len(rows)), [cap(r.sqnr_db) for r in rows], marker="o", label=f"vs {reference}")
    if any(r.sqnr_vs_fp32_db is not None for r in rows):
        ax.plot(range(len(rows)), [cap(r.sqnr_vs_fp32_db) if r.sqnr_vs_fp32_db is not None else float("nan")
                                   for r in rows], marker=".", ls="--", label="vs PyTorch fp32")
    ax.axhline(report.threshold_db, color="red", lw=1, ls=":", label=f"threshold {report.threshold_db:g} dB")
    if report.first_divergent in names:
        i = names.index(report.first_divergent)
        ax.axvline(i, color="red", lw=1.5)
        ax.annotate(f"first divergence: {report.first_divergent}", (i, cap(rows[i].sqnr_db)), xytext=(6, 10),
                    textcoords="offset points", color="red", fontsize=8)
    ax.set_xticks(range(len(rows)), names, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("SQNR dB (higher is closer)")
    ax.set_title(f"effmod debug {Path(report.artifact).name} ({report.target} {report.precision}, "
                 f"{report.n_images} images)", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=1, frameon=False)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)

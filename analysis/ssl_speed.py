"""The §4.3 speed-up of sampling the class (gs) over summing it out (marginal), from the table
`sbnlab bench --sections ssl` writes (results/bench/ssl-speed.md): speed-up against K at one and
two threads, beside the multiply-add prediction and the paper's GPU numbers (2x at K = 10,
9.9x at K = 100).

    python -m analysis ssl-speed <ssl-speed.md> [out.png]
"""
import os
import sys

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

COLUMNS = ["K", "predicted", "marginal_1", "gs_1", "speedup_1", "marginal_2", "gs_2", "speedup_2", "paper"]


def load_speed(path):
    """The bench's table as a DataFrame, one row per K (paper: NaN where the paper gives none)."""
    rows = []
    with open(path) as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) == len(COLUMNS) and cells[0].isdigit():
                rows.append([float(c) if c else float("nan") for c in cells])
    if not rows:
        raise ValueError(f"{path}: no rows of the ssl speed table (sbnlab bench --sections ssl)")
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["K"] = frame["K"].astype(int)
    return frame


def plot_speed(frame, out):
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(frame.K, frame.predicted, "k--", label="predicted (multiply-adds)")
    ax.plot(frame.K, frame.speedup_1, "o-", label="measured, 1 thread")
    ax.plot(frame.K, frame.speedup_2, "s-", label="measured, 2 threads")
    paper = frame.dropna(subset=["paper"])
    ax.plot(paper.K, paper.paper, "r^", markersize=9, label="paper (GPU)")
    ax.set_xlabel("classes K")
    ax.set_ylabel("speed-up of gs over marginal (steps/s)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xticks(list(frame.K))
    ax.set_xticklabels([str(k) for k in frame.K])
    ax.set_yticks([1, 2, 5, 10, 20, 50])
    ax.yaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title("M2: sampling the class vs summing it out (CPU)")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def main(argv):
    if not argv:
        print("usage: python -m analysis ssl-speed <ssl-speed.md> [out.png]", file=sys.stderr)
        return 2
    out = argv[1] if len(argv) > 1 else os.path.splitext(argv[0])[0] + ".png"
    frame = load_speed(argv[0])
    plot_speed(frame, out)
    print(frame.to_string(index=False))
    print(f"wrote {out}")
    return 0

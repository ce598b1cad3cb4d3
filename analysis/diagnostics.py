"""Gradient diagnostics recorded during training (the `diagnostics:` section of an experiment
file, stored under /metrics/diagnostics of run.h5): load them into pandas and plot variance and
bias against the training step, as the REBAR (Tucker et al. 2017, Fig. 2) and ARM (Yin & Zhou
2019, Fig. 4) papers do.

    python -m analysis diagnostics <run.h5> [out.png]
"""
import os
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def load_diagnostics(path):
    """One row per (measurement, estimator): step, epoch, estimator, relative_bias, bias_norm,
    noise_floor, variance_trace, cosine, microseconds, reference_norm, reference_relative_error.
    Empty when the run recorded none."""
    with h5py.File(path, "r") as f:
        if "metrics/diagnostics" not in f:
            return pd.DataFrame()
        g = f["metrics/diagnostics"]
        names = g.attrs["estimators"]
        names = (names.decode() if isinstance(names, bytes) else str(names)).split(",")
        base = {k: g[k][:] for k in ("step", "epoch", "reference_norm", "reference_relative_error")}
        frames = []
        for name in names:
            e = g[name]
            frame = pd.DataFrame(base)
            frame["estimator"] = name
            for key in ("relative_bias", "bias_norm", "noise_floor", "variance_trace", "cosine", "microseconds"):
                frame[key] = e[key][:]
            frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def plot_diagnostics(path, out):
    """Variance (trace, log scale) and relative bias (with each estimator's noise floor dashed)
    against the training step, one line per estimator. Returns the data, or None when the run has
    no diagnostics."""
    data = load_diagnostics(path)
    if data.empty:
        return None
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for index, (name, g) in enumerate(data.groupby("estimator", sort=False)):
        color = plt.get_cmap("tab10")(index % 10)
        left.plot(g.step, g.variance_trace, label=name, color=color)
        right.plot(g.step, g.relative_bias, label=name, color=color)
        right.plot(g.step, g.noise_floor, color=color, linestyle="--", linewidth=0.8)
    left.set_yscale("log")
    left.set_ylabel("variance of the estimate (trace)")
    right.set_ylabel("‖E[ĝ] − ∇‖ / ‖∇‖ (dashed: noise floor)")
    for ax in (left, right):
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"{os.path.basename(os.path.dirname(os.path.abspath(path)))}: gradient diagnostics")
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return data


def main(args):
    """`python -m analysis diagnostics <run.h5> [out.png]` (args without the subcommand)."""
    if len(args) not in (1, 2):
        print("usage: python -m analysis diagnostics <run.h5> [out.png]", file=sys.stderr)
        return 2
    out = args[1] if len(args) == 2 else os.path.join(os.path.dirname(args[0]) or ".", "diagnostics.png")
    data = plot_diagnostics(args[0], out)
    if data is None:
        print(f"{args[0]}: no diagnostics recorded (set diagnostics.every in the experiment file)", file=sys.stderr)
        return 1
    print(f"{data.step.nunique()} measurements of {data.estimator.nunique()} estimators; wrote {out}")
    return 0

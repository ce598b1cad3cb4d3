"""table.md, curves.png, temperature.png (and curves-chosen.png) for a sweep folder."""
import os

import h5py

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402

from .load import PAPER_TABLE1, load_runs  # noqa: E402


def _group_columns(varying):
    return [c for c in varying if c != "config.seed"]


def _label(key, columns):
    key = key if isinstance(key, tuple) else (key,)
    short = lambda c: c.removeprefix("config.").removeprefix("temperature.")
    return ", ".join(f"{short(c)}={v}" for c, v in zip(columns, key)) or "all runs"


def table(runs, varying):
    """Our test NLL (mean ± seed sd) next to the paper's Table 1 number from the runs' column."""
    columns = _group_columns(varying)
    if "config.estimator" not in columns:
        columns = ["config.estimator"] + columns
    lines = ["| " + " | ".join([c.removeprefix("config.") for c in columns]
                              + ["seeds", "test NLL (ours, mean ± sd over seeds)", "best valid NLL", "paper (Table 1)"]) + " |",
             "|" + "---|" * (len(columns) + 4)]
    for key, g in runs.groupby(columns, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        done = g[g.status == "finished"]
        # The paper's metric: −ELBO for the VAE rows (marked), the test NLL otherwise.
        vae = str(g.paper_column.iloc[0]).startswith("vae")
        value, sem, mark = (done.test_neg_elbo, done.test_neg_elbo_sem, " −ELBO") if vae else (done.test_nll, done.test_nll_sem, "")
        if len(done) > 1:
            ours = f"{value.mean():.2f} ± {value.std(ddof=1):.2f}{mark}"
        elif len(done) == 1:
            ours = f"{value.iloc[0]:.2f} ± {sem.iloc[0]:.2f} (sem){mark}"
        else:
            ours = "—"
        estimator = g.estimator.iloc[0]
        paper = PAPER_TABLE1.get(g.paper_column.iloc[0], {}).get(estimator)
        paper_text = f"{paper[1]:.1f} ({paper[0]})" if paper else "—"
        lines.append("| " + " | ".join([str(v) for v in key]
                                        + [f"{len(done)}/{len(g)}", ours, f"{g.best_valid_nll.mean():.2f}", paper_text]) + " |")
    return "\n".join(lines) + "\n"


def curves(runs, varying, path, title="Validation NLL (mean over seeds, band: min–max)"):
    """Validation NLL against epoch, one line per group (mean over seeds) with a min–max seed band."""
    columns = _group_columns(varying) or ["config.estimator"]
    groups = list(runs.groupby(columns, sort=True))
    fig, ax = plt.subplots(figsize=(9, 4.8))
    colors = plt.get_cmap("tab10" if len(groups) <= 10 else "tab20")
    for index, (key, g) in enumerate(groups):
        length = min(len(c) for c in g.valid_nll)
        if length == 0:
            continue
        curves = np.array([c[:length] for c in g.valid_nll])
        epochs = np.array(g.valid_epoch.iloc[0][:length])
        line, = ax.plot(epochs, curves.mean(axis=0), marker="o" if length < 10 else None, label=_label(key, columns),
                        color=colors(index % colors.N), linestyle="-" if index < colors.N else "--")
        if len(curves) > 1:
            ax.fill_between(epochs, curves.min(axis=0), curves.max(axis=0), color=line.get_color(), alpha=0.2)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation NLL (nats)")
    ax.set_title(title)
    ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def chosen_temperatures(runs):
    """Per estimator, the fixed τ with the lowest mean best validation NLL over its finished runs
    (the choice the paper's protocol makes on validation, never on test): {estimator: τ}."""
    done = runs[(runs.status == "finished") & (runs["config.temperature.schedule"] == "fixed")]
    chosen = {}
    for estimator, g in done.groupby("estimator", sort=True):
        valid = g.groupby("config.temperature.tau").best_valid_nll.mean()
        if len(valid) and np.isfinite(valid.min()):
            chosen[estimator] = float(valid.idxmin())
    return chosen


def temperature(runs, path):
    """Test NLL against τ for fixed schedules, one line per estimator (mean ± seed sd), the τ chosen
    on validation marked ★; annealed runs as dashed lines."""
    fig, ax = plt.subplots(figsize=(6, 4))
    done = runs[runs.status == "finished"]
    chosen = chosen_temperatures(runs)
    for estimator, g in done.groupby("estimator", sort=True):
        fixed = g[g["config.temperature.schedule"] == "fixed"]
        if len(fixed):
            stats = fixed.groupby("config.temperature.tau").test_nll.agg(["mean", "std", "count"]).reset_index()
            line = ax.errorbar(stats["config.temperature.tau"], stats["mean"], yerr=stats["std"].fillna(0),
                               marker="o", capsize=3, label=f"{estimator} (fixed τ)")
            color = line[0].get_color()
            if estimator in chosen:
                at = stats[stats["config.temperature.tau"] == chosen[estimator]]["mean"].iloc[0]
                ax.plot([chosen[estimator]], [at], marker="*", markersize=14, color=color, linestyle="none",
                        label=f"{estimator}: τ = {chosen[estimator]:g} chosen on validation")
        else:
            color = None
        annealed = g[g["config.temperature.schedule"] != "fixed"]
        if len(annealed):
            ax.axhline(annealed.test_nll.mean(), linestyle="--", color=color, label=f"{estimator} (annealed)")
    ax.set_xscale("log")
    taus = sorted(done["config.temperature.tau"].unique()) if len(done) else []
    if taus:
        ax.set_xticks(taus)
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("temperature τ")
    ax.set_ylabel("test NLL (nats)")
    ax.set_title("Test NLL against temperature")
    ax.grid(alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def chosen_paths(folder):
    """Run files (relative to the folder) at the learning rate chosen on validation, from the
    `chosen` column that the sweep's summary.h5 holds; empty without one."""
    summary = os.path.join(folder, "summary.h5")
    if not os.path.exists(summary):
        return set()
    with h5py.File(summary, "r") as f:
        if "chosen" not in f:
            return set()
        return {p for p, c in zip(f["path"].asstr()[:], f["chosen"][:]) if c}


def write_report(folder):
    runs, varying = load_runs(folder)
    if runs.empty:
        raise SystemExit(f"{folder}: no run.h5 files found")
    outputs = {name: os.path.join(folder, name) for name in ("table.md", "curves.png", "temperature.png")}
    with open(outputs["table.md"], "w") as f:
        f.write(table(runs, varying))
        chosen = chosen_temperatures(runs)
        if chosen:
            f.write("\nτ chosen on validation (lowest mean best validation NLL): "
                    + ", ".join(f"{e} τ = {t:g}" for e, t in chosen.items()) + "\n")
    curves(runs, varying, outputs["curves.png"])
    temperature(runs, outputs["temperature.png"])
    chosen = chosen_paths(folder)
    if chosen:
        outputs["curves-chosen.png"] = os.path.join(folder, "curves-chosen.png")
        curves(runs[runs.path.isin(chosen)], varying, outputs["curves-chosen.png"],
               title="Validation NLL at the learning rate chosen on validation\n(mean over seeds, band: min–max)")
    return runs, outputs

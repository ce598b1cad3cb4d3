"""Reading SBNLab HDF5 results (see docs/results-schema.md) into pandas."""
import json
import os

import h5py
import numpy as np
import pandas as pd

# Jang, Gu & Poole 2017, Table 1, by row: SBN (Bernoulli) 392-200-200-392 and SBN (categorical)
# 392-(20x10)-(20x10)-392 (test NLL, nats); the §4.2 VAE with Bernoulli (200) or categorical
# (20x10) latents (−ELBO, nats). A run's row comes from its model family and layers
# (`paper_column`, as SBNTraining's PaperColumn decides it; summary.h5 stores it too).
PAPER_TABLE1 = {
    "bernoulli": {
        "reinforce": ("SF", 72.0), "darn": ("DARN", 59.7), "muprop": ("MuProp", 58.9), "st": ("ST", 58.9),
        "st-annealed": ("Annealed ST", 58.7), "gs": ("Gumbel-Softmax", 58.5), "st-gs": ("ST Gumbel-Softmax", 59.3),
        # Not in Table 1: ARM's own report on the same task (Yin & Zhou 2019, Table 3).
        "arm": ("ARM, Yin & Zhou 2019", 57.9),
    },
    "categorical": {
        "reinforce": ("SF", 73.1), "darn": ("DARN", 67.9), "muprop": ("MuProp", 63.0), "st": ("ST", 61.8),
        "st-annealed": ("Annealed ST", 61.1), "gs": ("Gumbel-Softmax", 59.0), "st-gs": ("ST Gumbel-Softmax", 59.7),
    },
    "vae-bernoulli": {
        "reinforce": ("SF", 112.2), "darn": ("DARN", 110.9), "muprop": ("MuProp", 109.7), "st": ("ST", 116.0),
        "st-annealed": ("Annealed ST", 111.5), "gs": ("Gumbel-Softmax", 105.0), "st-gs": ("ST Gumbel-Softmax", 111.5),
    },
    "vae-categorical": {
        "reinforce": ("SF", 110.6), "darn": ("DARN", 128.8), "muprop": ("MuProp", 107.0), "st": ("ST", 110.9),
        "st-annealed": ("Annealed ST", 107.8), "gs": ("Gumbel-Softmax", 101.5), "st-gs": ("ST Gumbel-Softmax", 107.8),
    },
}


def paper_column(layers, family="sbn"):
    """'bernoulli' when every hidden layer is a plain number, 'categorical' when every one is
    {categorical: [groups, classes]}, else None; prefixed 'vae-' for the VAE family."""
    hidden = layers[1:-1]
    prefix = "vae-" if family == "vae" else ""
    if all(isinstance(h, int) for h in hidden):
        return prefix + "bernoulli"
    if all(isinstance(h, dict) and list(h) == ["categorical"] for h in hidden):
        return prefix + "categorical"
    return None


def _hashable(value):
    """Lists become tuples so they can be grouped; lists holding mappings (categorical layers)
    become their compact JSON text."""
    if not isinstance(value, list):
        return value
    if any(isinstance(v, (dict, list)) for v in value):
        return json.dumps(value, separators=(", ", ": "))
    return tuple(value)


def _flatten(config):
    """Dotted key paths → values (pandas' own walker), each hashable."""
    flat = pd.json_normalize(config, sep=".").iloc[0].to_dict()
    return {k: _hashable(v) for k, v in flat.items()}


def _text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def load_runs(folder):
    """One row per run.h5 below `folder`, with flattened config fields, status and numbers,
    plus the validation curve as a list. Returns (runs, varying) where `varying` lists the
    config fields that differ between runs."""
    rows = []
    for root, _, files in os.walk(folder):
        if "run.h5" not in files:
            continue
        path = os.path.join(root, "run.h5")
        with h5py.File(path, "r") as f:
            raw = json.loads(_text(f.attrs["config"]))
            config = _flatten(raw)
            row = {f"config.{k}": v for k, v in config.items()}
            row.update(path=os.path.relpath(path, folder), status=_text(f.attrs["status"]),
                       estimator=config["estimator"], seed=config["seed"],
                       paper_column=paper_column(raw["layers"], raw.get("model", {}).get("family", "sbn")))
            row["valid_epoch"] = list(f["metrics/valid/epoch"][:])
            row["valid_nll"] = list(f["metrics/valid/nll"][:])
            row["best_valid_nll"] = float(f["checkpoint"].attrs["best_valid_nll"]) if "checkpoint" in f else np.nan
            if "eval/test" in f:
                t = f["eval/test"].attrs
                row.update(test_nll=float(t["nll"]), test_nll_sem=float(t["nll_sem"]), test_samples=int(t["samples"]))
                # The VAE's −ELBO (the paper's §4.2 number); test_nll is then −log p(x).
                row.update(test_neg_elbo=float(t["neg_elbo"]) if "neg_elbo" in t else np.nan,
                           test_neg_elbo_sem=float(t["neg_elbo_sem"]) if "neg_elbo_sem" in t else np.nan)
            else:
                row.update(test_nll=np.nan, test_nll_sem=np.nan, test_samples=0, test_neg_elbo=np.nan, test_neg_elbo_sem=np.nan)
            rows.append(row)
    runs = pd.DataFrame(rows)
    if runs.empty:
        return runs, []
    fields = [c for c in runs.columns if c.startswith("config.") and c not in ("config.name", "config.description")]
    varying = [c for c in fields if runs[c].astype(str).nunique() > 1]
    return runs.sort_values("path").reset_index(drop=True), varying

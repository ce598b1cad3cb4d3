"""Reading SBNLab HDF5 results (see docs/results-schema.md) into pandas."""
import json
import os

import h5py
import numpy as np
import pandas as pd

# Jang, Gu & Poole 2017, Table 1, test NLL in nats, by column: SBN (Bernoulli) 392-200-200-392
# and SBN (categorical) 392-(20x10)-(20x10)-392. A run's column comes from its layers
# (`paper_column`, as SBNTraining's PaperColumn decides it).
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
}


def paper_column(layers):
    """'bernoulli' when every hidden layer is a plain number, 'categorical' when every one is
    {categorical: [groups, classes]}, else None."""
    hidden = layers[1:-1]
    if all(isinstance(h, int) for h in hidden):
        return "bernoulli"
    if all(isinstance(h, dict) and list(h) == ["categorical"] for h in hidden):
        return "categorical"
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
                       estimator=config["estimator"], seed=config["seed"], paper_column=paper_column(raw["layers"]))
            row["valid_epoch"] = list(f["metrics/valid/epoch"][:])
            row["valid_nll"] = list(f["metrics/valid/nll"][:])
            row["best_valid_nll"] = float(f["checkpoint"].attrs["best_valid_nll"]) if "checkpoint" in f else np.nan
            if "eval/test" in f:
                t = f["eval/test"].attrs
                row.update(test_nll=float(t["nll"]), test_nll_sem=float(t["nll_sem"]), test_samples=int(t["samples"]))
            else:
                row.update(test_nll=np.nan, test_nll_sem=np.nan, test_samples=0)
            rows.append(row)
    runs = pd.DataFrame(rows)
    if runs.empty:
        return runs, []
    fields = [c for c in runs.columns if c.startswith("config.") and c not in ("config.name", "config.description")]
    varying = [c for c in fields if runs[c].astype(str).nunique() > 1]
    return runs.sort_values("path").reset_index(drop=True), varying

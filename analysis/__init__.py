"""SBNLab results analysis: load run files and sweep summaries into pandas, write tables and figures.

    python -m analysis <sweep dir>      # writes table.md, curves.png, temperature.png (curves-chosen.png) into the folder
    python -m analysis diagnostics <run.h5>   # variance and bias against the step (diagnostics: section)
"""
from .diagnostics import load_diagnostics, plot_diagnostics
from .load import load_runs, PAPER_TABLE1

__all__ = ["load_runs", "load_diagnostics", "plot_diagnostics", "PAPER_TABLE1"]

"""SBNLab results analysis: load run files and sweep summaries into pandas, write tables and figures.

    python -m analysis <sweep dir>      # writes table.md, curves.png, temperature.png into the folder
"""
from .load import load_runs, PAPER_TABLE1

__all__ = ["load_runs", "PAPER_TABLE1"]

"""The one place that lists the dashboard's pages: section -> [(script, title, icon), ...]."""

from __future__ import annotations

from pathlib import Path

NAVIGATION: dict[str, list[tuple[str, str, str]]] = {
    "Workflow": [
        ("pages/data.py", "Data", ":material/table_chart:"),
        ("pages/train.py", "Train", ":material/model_training:"),
        ("pages/predictions.py", "Predictions", ":material/query_stats:"),
        ("pages/backtest.py", "Backtest", ":material/history:"),
        ("pages/runs.py", "Runs & export", ":material/inventory_2:"),
        ("pages/sweep.py", "Sweep", ":material/tune:"),
    ],
    "Inside the network": [
        ("pages/hidden_states.py", "Hidden states", ":material/hub:"),
        ("pages/errors.py", "Errors", ":material/troubleshoot:"),
    ],
}


def missing_pages(root: Path, navigation: dict[str, list[tuple[str, str, str]]] = NAVIGATION) -> list[str]:
    """Page scripts the navigation lists that are not on disk (a broken checkout or install)."""
    return [script for pages in navigation.values() for script, _, _ in pages if not (root / script).is_file()]

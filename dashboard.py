"""rnnlab dashboard: ``streamlit run dashboard.py``.

The entry script only sets the page up, builds the navigation and draws the sidebar
status; every page lives in ``pages/`` and reads widgets, calls rnnlab and draws.
"""

from __future__ import annotations

from pathlib import Path

# Training runs in a background thread next to the server's own threads (websocket loop,
# page and fragment reruns) and, usually, the browser: leave them a core (RNNLAB_THREADS =
# cores - 1; OpenMP workers sleep instead of spinning when there is more than one). On the
# 2-core reference machine a default LSTM run took 9-10 s in the app this way against 17-19 s
# with 2 sleeping threads (rnnlab._platform.interactive_thread_env). Set before torch is first imported (pages import it lazily).
from rnnlab._platform import interactive_thread_env  # noqa: E402  (no torch)

interactive_thread_env()

import streamlit as st  # noqa: E402

st.set_page_config(page_title="rnnlab · RNN forecasting lab", page_icon=":material/ssid_chart:", layout="wide")

from ui.common import show_flashes  # noqa: E402  (after set_page_config)
from ui.widgets import sidebar_status  # noqa: E402

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------------------------
# NAVIGATION: the one place that lists the pages. Section -> [(script, title, icon), ...].
# Pages whose script does not exist yet are skipped, so a section can be listed before its
# pages are written.
NAVIGATION: dict[str, list[tuple[str, str, str]]] = {
    "Workflow": [
        ("pages/data.py", "Data", ":material/table_chart:"),
        ("pages/train.py", "Train", ":material/model_training:"),
        ("pages/predictions.py", "Predictions", ":material/query_stats:"),
        ("pages/runs.py", "Runs & export", ":material/inventory_2:"),
    ],
    "Inside the network": [
        ("pages/hidden_states.py", "Hidden states", ":material/hub:"),
        ("pages/errors.py", "Errors", ":material/troubleshoot:"),
    ],
}
# ---------------------------------------------------------------------------------------------


def build_navigation() -> dict[str, list[st.Page]]:
    sections: dict[str, list[st.Page]] = {}
    first = True
    for section, pages in NAVIGATION.items():
        items = []
        for script, title, icon in pages:
            if not (HERE / script).is_file():
                continue
            items.append(st.Page(script, title=title, icon=icon, default=first))
            first = False
        if items:
            sections[section] = items
    return sections


page = st.navigation(build_navigation())
with st.sidebar:
    # before the page (so pages ending with st.stop() still get it); refreshed after it
    refresh_sidebar = sidebar_status(show_job=page.url_path != "train")  # Train draws its own progress
show_flashes()
page.run()
refresh_sidebar()  # reflect what the page just changed (dataset, runs)

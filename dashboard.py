"""rnnlab dashboard: ``streamlit run dashboard.py``.

The entry script only sets the page up, builds the navigation and draws the sidebar
status; every page lives in ``pages/`` and reads widgets, calls rnnlab and draws.
"""

from __future__ import annotations

from pathlib import Path

# Training runs in a background thread next to the server's own threads (websocket loop, page and
# fragment reruns) and, usually, the browser: leave them a core (RNNLAB_MAX_THREADS = cores - 1, a
# cap on the load-aware count of rnnlab._platform; bench/threads.py measures it), set before torch
# is first imported (pages import it lazily).
from rnnlab._platform import interactive_thread_env

interactive_thread_env()

import streamlit as st  # noqa: E402

st.set_page_config(page_title="rnnlab · recurrent networks, live", page_icon=str(Path(__file__).with_name("ui") / "favicon.png"),
                   layout="wide")  # a local icon: a material icon would be fetched from the network

from ui import style  # noqa: E402
from ui.common import show_flashes  # noqa: E402  (after set_page_config)
from ui.navigation import NAVIGATION, missing_pages  # noqa: E402
from ui.widgets import sidebar_status  # noqa: E402

style.apply()

HERE = Path(__file__).resolve().parent


def build_navigation() -> dict[str, list[st.Page]]:
    """Every listed page; a listed page whose script is missing is reported on screen, not skipped."""
    missing = set(missing_pages(HERE))
    if missing:
        st.error(f"rnnlab is incomplete: the page file(s) {', '.join(sorted(missing))} are missing. "
                 f"Check out or install the whole repository again; the other pages work.")
    sections: dict[str, list[st.Page]] = {}
    first = True
    for section, pages in NAVIGATION.items():
        items = []
        for script, title, icon in pages:
            if script in missing:
                continue
            items.append(st.Page(script, title=title, icon=icon, default=first))
            first = False
        if items:
            sections[section] = items
    return sections


from ui import reattach  # noqa: E402

reattach.sync()  # a reload of this tab gets its running job and its runs back (client id in the URL)
page = st.navigation(build_navigation())
with st.sidebar:
    # before the page (so pages ending with st.stop() still get it); refreshed after it
    refresh_sidebar = sidebar_status()
show_flashes()
page.run()
refresh_sidebar()  # reflect what the page just changed (dataset, runs)

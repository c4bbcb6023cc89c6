"""The app's few style rules, injected once by dashboard.py."""

from __future__ import annotations

import streamlit as st

# Streamlit's header shows a "Stop" button while a script runs; it stops the page's rerun, not a
# training job (those run in a thread and have their own Stop), so it only misleads: hidden.
# Segmented controls and buttons keep their labels whole. From 900 px up (a 300 px sidebar leaves the
# page ~600 px), columns wrap onto a new row rather than squeeze below a usable width, and the page's
# side padding shrinks on narrow windows.
CSS = """
<style>
[data-testid="stStatusWidget"] { visibility: hidden; }
[data-testid="stHorizontalBlock"] { flex-wrap: wrap; row-gap: 0.75rem; }
[data-testid="stHorizontalBlock"] > [data-testid="stColumn"] { min-width: min(200px, 100%); }
@media (max-width: 1200px) {
  [data-testid="stMainBlockContainer"] { padding-left: 1.5rem; padding-right: 1.5rem; }
}
[data-testid="stButtonGroup"] button p, [data-testid="stBaseButton-segmented_control"] p,
[data-testid="stBaseButton-segmented_controlActive"] p { white-space: nowrap; overflow: visible; }
</style>
"""


def apply() -> None:
    st.html(CSS)

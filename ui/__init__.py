"""Streamlit front-end helpers: session state, error guard, Altair chart builders.

Only the dashboard (``dashboard.py``, ``pages/``) imports this package; ``rnnlab`` never does.
"""

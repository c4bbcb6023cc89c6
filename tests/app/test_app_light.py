"""The landing page stays light: the Data page draws without importing torch (it loads in the
background afterwards, for the first Train)."""

from __future__ import annotations

import subprocess
import sys

from tests.app.apptools import DASHBOARD

CODE = f"""
import sys, threading
import ui.common as common
common._WARMED = True  # keep the background warm-up out: this checks the page itself
from streamlit.testing.v1 import AppTest
at = AppTest.from_file({str(DASHBOARD)!r}, default_timeout=120).run()
assert not at.exception, at.exception
assert at.title[0].value == "Data"
print("torch" in sys.modules)
"""


def test_the_data_page_draws_without_torch():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"

"""The shape of the core that every later change relies on: no import cycle, no streamlit, modules
that do one job, and one source for every setting (each has a CLI flag)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from rnnlab.cli import build_parser
from rnnlab.settings import SPECS

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "rnnlab"
MAX_MODULE_LINES = 500


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> rnnlab modules it imports (anywhere in the file, TYPE_CHECKING blocks excepted)."""
    files = {_module_name(p): p for p in PKG.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        guarded = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                   for b in node.body for n in ast.walk(b)}
        base = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        out: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in guarded:
                continue
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                mod = ".".join(base[: len(base) - node.level + 1] + [node.module or ""]) if node.level else node.module
                mod = (mod or "").strip(".")
                out.add(mod)
                out.update(f"{mod}.{a.name}" for a in node.names)
        own_package = path.name == "__init__.py"
        graph[name] = {t for t in out if t in files and t != name and not (own_package and t.startswith(name + "."))}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(v: str) -> list[str]:
        state[v] = 1
        stack.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == 1:
                return stack[stack.index(w):] + [w]
            if w not in state and (cycle := visit(w)):
                return cycle
        stack.pop()
        state[v] = 2
        return []

    for v in sorted(graph):
        if v not in state and (cycle := visit(v)):
            return cycle
    return []


def test_the_core_has_no_import_cycle():
    assert find_cycle(import_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_importing_every_core_module_never_loads_streamlit():
    modules = sorted(m for m in import_graph() if m != "rnnlab.__main__")  # __main__ runs the CLI
    code = ("import importlib, sys\n"
            f"for m in {modules!r}: importlib.import_module(m)\n"
            "bad = sorted(m for m in sys.modules if m == 'streamlit' or m.startswith('streamlit.'))\n"
            "print(len(bad))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "0"


def test_no_core_module_does_everything():
    long = {p.name: n for p in PKG.rglob("*.py") if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_every_setting_has_a_train_flag():
    sub = next(a for a in build_parser()._subparsers._group_actions[0].choices.items() if a[0] == "train")[1]
    flags = {opt for action in sub._actions for opt in action.option_strings}
    missing = [s.flag for s in SPECS.values() if s.flag not in flags]
    assert missing == []
    assert {"--model", "--hidden", "--layers", "--data"} <= flags  # the documented short names still work

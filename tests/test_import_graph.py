"""The project's import graph: no module imports itself through others, and the layers point one way.

Imports are read with `ast`, not by importing, so a circle shows up even where a function-level (lazy) import
hides it at run time. Counted as edges: every `import` / `from ... import` anywhere in a module (function
bodies too, `if TYPE_CHECKING:` blocks excepted: they never run), and a string naming a project module in a
module that uses importlib (`rag/cli.py` loads its subcommand groups that way).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("rag", "indexing", "evals", "adapt", "ui")
ON_TOP = ("adapt", "evals", "ui")  # training, benchmarks and the app use the answer path; it never uses them
BELOW = ("rag", "indexing")
ENTRY_POINT = "rag.cli"  # the `adaptrag` command assembles every group's subcommands, so it may load all of them


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return modules


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules `name` imports (statically or through importlib with a literal name)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skip = _type_checking_lines(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    uses_importlib = False
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            uses_importlib |= any(alias.name.startswith("importlib") for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            uses_importlib |= base.startswith("importlib")
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in modules else base)
    if uses_importlib:
        found.update(node.value for node in ast.walk(tree)
                     if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in modules
                     and "." in node.value)
    return {m for m in found if m in modules and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted, as import circles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_checker_sees_a_circle_and_a_lazy_import(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    modules = {"pkg.one": tmp_path / "one.py", "pkg.two": tmp_path / "two.py", "pkg": tmp_path / "__init__.py"}
    modules["pkg.one"].write_text("import importlib\nGROUPS = ('pkg.two',)\ndef f():\n    from pkg import two\n")
    modules["pkg.two"].write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.one import x\n")
    assert imports_of("pkg.one", modules["pkg.one"], modules) == {"pkg.two"}
    assert imports_of("pkg.two", modules["pkg.two"], modules) == set()


def test_the_graph_covers_the_project():
    graph = import_graph()
    assert {"rag.cli", "rag.pipeline", "indexing.index", "evals.cli", "adapt.cli", "ui.render"} <= set(graph)
    assert "indexing.cli" in graph["rag.cli"]  # the importlib-loaded subcommand groups are edges


def test_no_import_cycles():
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("lower", BELOW)
def test_the_answer_path_never_imports_training_benchmarks_or_the_app(lower):
    wrong = {f"{name} -> {dep}" for name, deps in import_graph().items()
             if name.split(".")[0] == lower and name != ENTRY_POINT for dep in deps if dep.split(".")[0] in ON_TOP}
    assert wrong == set()

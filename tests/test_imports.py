"""The package's imports flow one way, stage by stage, with no circles (imports inside functions count)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "qa"
STAGES = ["text", "read", "embed", "index", "search", "answer"]
"""The pipeline's packages in order: each may import the ones before it, never one after it."""
BASE = {"errors", "config", "results", "progress", "scoring", "format_history"}
"""Top-level modules of settings, errors, result types and the index format's history: every stage may import them."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(folder: Path) -> dict[str, Path]:
    return {module_name(path): path for path in sorted(folder.rglob("*.py"))}


def is_module(name: str) -> bool:
    path = ROOT.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported(path: Path) -> set[str]:
    """The qa modules ``path`` imports anywhere in it: ``from qa.x import y`` is qa.x.y when y is a
    module, else qa.x."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "qa"}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            if node.module and node.module.split(".")[0] == "qa":
                for alias in node.names:
                    child = f"{node.module}.{alias.name}"
                    found.add(child if is_module(child) else node.module)
    return found


def rank(module: str) -> int:
    """0 for the base layer, 1.. for the stages in order, one more for the top (API, CLI, eval)."""
    part = module.split(".")[1] if "." in module else "__init__"
    if part in BASE:
        return 0
    if part in STAGES:
        return STAGES.index(part) + 1
    return len(STAGES) + 1


def graph() -> dict[str, set[str]]:
    return {name: imported(path) for name, path in modules(PACKAGE).items()}


def test_every_module_belongs_to_a_stage_or_the_top():
    top = {"qa", "qa.__main__", "qa.cli", "qa.terminal", "qa.retriever", "qa.evaluation"}
    for name in modules(PACKAGE):
        if rank(name) == len(STAGES) + 1:
            assert name in top or name.startswith("qa.evaluation."), f"{name} is in no stage"


def later_stage_imports(edges: dict[str, set[str]]) -> list[str]:
    return [f"{name} imports {other}" for name, others in edges.items() for other in others if rank(other) > rank(name)]


def circles(edges: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done
    found = []

    def walk(name: str, path: list[str]) -> None:
        state[name] = 1
        for other in sorted(edges.get(name, ())):
            if state.get(other) == 1:
                found.append(" -> ".join([*path[path.index(other):], other]))
            elif other not in state:
                walk(other, [*path, other])
        state[name] = 2

    for name in sorted(edges):
        if name not in state:
            walk(name, [name])
    return found


def test_no_stage_imports_a_later_stage():
    assert later_stage_imports(graph()) == []


def test_there_are_no_import_circles():
    assert circles(graph()) == []


def test_the_checks_catch_what_they_look_for():
    assert later_stage_imports({"qa.index.store": {"qa.search.filters", "qa.read.dates"}}) == [
        "qa.index.store imports qa.search.filters"]
    assert circles({"qa.index.a": {"qa.index.b"}, "qa.index.b": {"qa.index.c"}, "qa.index.c": {"qa.index.a"}}) == [
        "qa.index.a -> qa.index.b -> qa.index.c -> qa.index.a"]


def test_the_page_uses_only_the_public_api():
    for path in sorted((ROOT / "ui").rglob("*.py")):
        assert imported(path) <= {"qa"}, f"{path.name} imports qa's internals"


def test_imports_inside_functions_are_seen(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from qa.index import store\n    from qa.search.filters import document_filter\n")
    assert imported(module) == {"qa.index.store", "qa.search.filters"}

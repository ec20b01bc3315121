"""The packages import each other only as their own docstrings allow, and never in a circle.

Each package's __init__ says "May import: a, b (and harness's base modules)."; the base modules
are harness/*.py other than the command line and the pipeline.
"""

from __future__ import annotations

import ast
import re
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

HARNESS = Path(__file__).resolve().parent.parent / "harness"
EDGE_MODULES = {"cli", "pipeline", "__main__"}  # only the command line may import these


def _packages() -> list[str]:
    return sorted(p.name for p in HARNESS.iterdir() if (p / "__init__.py").is_file())


def _allowed(package: str) -> set[str]:
    doc = ast.get_docstring(ast.parse((HARNESS / package / "__init__.py").read_text())) or ""
    match = re.search(r"May import: (.+?) \(and harness's base modules\)\.", doc, re.S)
    assert match, f"harness/{package}/__init__.py does not say what it may import"
    named = " ".join(match.group(1).split())
    return set() if named == "nothing" else {n.strip() for n in named.split(",")}


def _imported(package: str, packages: set[str]) -> dict[str, set[str]]:
    """What the package's modules import from other harness packages or edge modules."""
    found: dict[str, set[str]] = {}
    for path in (HARNESS / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] != "harness" or len(parts) < 2 or parts[1] == package:
                    continue
                if parts[1] in packages or parts[1] in EDGE_MODULES:
                    found.setdefault(parts[1], set()).add(str(path.relative_to(HARNESS)))
    return found


def test_every_package_imports_only_what_its_docstring_allows() -> None:
    packages = set(_packages())
    wrong = []
    for package in sorted(packages):
        allowed = _allowed(package)
        assert allowed <= packages | EDGE_MODULES, f"{package}: unknown names in its docstring"
        for target, where in sorted(_imported(package, packages).items()):
            if target not in allowed:
                wrong.append(f"{package} -> {target} ({', '.join(sorted(where))})")
    assert wrong == []


def test_the_allowed_imports_have_no_cycle() -> None:
    graph = {package: _allowed(package) - EDGE_MODULES for package in _packages()}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"packages import each other in a circle: {exc.args[1]}") from None
    assert order[0] == "config" or not graph[order[0]]


def test_the_readme_layout_names_every_package_and_base_module() -> None:
    readme = (HARNESS.parent / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("```text", 1)[1].split("```", 1)[0]
    named = set(re.findall(r"\b(\w+)(?:/|\.py)", layout))
    modules = {p.stem for p in HARNESS.glob("*.py")} - {"__init__", "__main__"}
    assert set(_packages()) | modules <= named

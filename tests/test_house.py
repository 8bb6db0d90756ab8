"""The house rules, checked like any behaviour: lint, strict types, and a package whose folders
are its layers, with imports that only point down them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "snapcli"
# Each layer may import the ones before it, never one after.
LAYERS = ["errors", "settings", "core", "media", "engine", "service", "api", "jobs", "cli", "__init__",
          "__main__"]  # fmt: skip


def _tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    ran = subprocess.run([sys.executable, "-m", name, *args], cwd=ROOT, capture_output=True,
                         text=True, check=False)  # fmt: skip
    if "No module named" in ran.stderr:
        pytest.skip(f"{name} (a test dependency) is not installed")
    return ran


def test_lint_is_clean() -> None:
    ran = _tool("ruff", "check", "snapcli", "tests", "bench")
    assert ran.returncode == 0, ran.stdout + ran.stderr


def test_types_are_strict() -> None:
    ran = _tool("mypy", "--strict", "snapcli")
    assert ran.returncode == 0, ran.stdout + ran.stderr


def _layer(module: str) -> int:
    """The layer of a module named like snapcli.core.request."""
    parts = module.split(".")
    return LAYERS.index(parts[1] if len(parts) > 1 else "__init__")


def _imports() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):  # imports for type checkers only tie nothing at run time
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                node.body = []
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("snapcli"):
                assert node.level == 0, f"{name}: imports are absolute"
                targets |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name.startswith("snapcli")}
        found[name.removesuffix(".__init__")] = targets
    return found


def test_imports_point_down_the_layers() -> None:
    for module, targets in _imports().items():
        if module.endswith("__main__") or module == "snapcli":
            continue
        for target in targets:
            if target.startswith("snapcli.") and not target.startswith("snapcli.__"):
                assert _layer(target) <= _layer(module), f"{module} imports {target}, above it"


def test_no_import_circles() -> None:
    imports = _imports()  # parsed once: the graph looks a module up for every import
    graph = {
        module: {t for t in targets if t in imports or t.rsplit(".", 1)[0] in imports}
        for module, targets in imports.items()
    }
    modules = set(graph)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for target in graph.get(start, ()):
            owner = target if target in modules else target.rsplit(".", 1)[0]
            if owner == goal:
                return True
            if owner not in seen and owner != start:
                seen.add(owner)
                if reaches(owner, goal, seen):
                    return True
        return False

    circles = [m for m in modules if m != "snapcli" and reaches(m, m, set())]
    assert circles == []

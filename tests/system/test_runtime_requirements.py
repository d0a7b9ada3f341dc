"""requirements.txt installs everything the application imports at run time: serving, the
worker and every `flask` command (a newcomer's `make demo` installs only that file).

This is the fast, static half: every import statement under grants/ (function-local ones too)
is matched to the distribution that provides it, and that distribution must be in the closure of
requirements.txt. The other half, `make check-runtime` (run by CI), imports every module and
builds the app in a fresh virtualenv that has requirements.txt only."""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(_norm(re.split(r"[<>=!~\[; ]", line)[0]))
    return names


def runtime_closure() -> set[str]:
    """requirements.txt and everything those distributions require (extras left out)."""
    closure: set[str] = set()
    todo = list(requirement_names(ROOT / "requirements.txt"))
    while todo:
        name = todo.pop()
        if name in closure:
            continue
        closure.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_norm(re.split(r"[<>=!~\[; (]", r)[0]) for r in requires if "extra ==" not in r]
    return closure


def third_party_imports() -> dict[str, set[str]]:
    """Top-level module imported -> the grants modules importing it."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "grants").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "grants" and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(module)
    return found


def missing_runtime_requirements() -> list[str]:
    closure = runtime_closure()
    owners = metadata.packages_distributions()
    problems = []
    for top, modules in sorted(third_party_imports().items()):
        distributions = sorted({_norm(d) for d in owners.get(top, [])})
        if not distributions:
            problems.append(f"{', '.join(sorted(modules))} import '{top}', which no installed "
                            f"package provides")
        elif not any(d in closure for d in distributions):
            problems.append(f"{', '.join(sorted(modules))} import '{top}' (package "
                            f"{', '.join(distributions)}), which requirements.txt does not "
                            f"install")
    return problems


def test_every_runtime_import_is_installed_by_requirements_txt():
    assert missing_runtime_requirements() == []


def test_the_check_names_the_module_and_the_package(tmp_path, monkeypatch):
    # The check itself can fail: with pypdf taken out of requirements.txt it names both.
    original = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^pypdf==", original, re.M)
    stripped = tmp_path / "requirements.txt"
    stripped.write_text(re.sub(r"^pypdf==.*\n", "", original, flags=re.M), encoding="utf-8")
    real_names = requirement_names

    def names(path: Path) -> set[str]:
        return real_names(stripped if path == ROOT / "requirements.txt" else path)

    monkeypatch.setattr(sys.modules[__name__], "requirement_names", names)
    problems = missing_runtime_requirements()
    assert any("grants.submissions.archive" in p and "pypdf" in p for p in problems), problems


def test_dev_requirements_hold_only_what_tests_and_benchmarks_import():
    runtime = requirement_names(ROOT / "requirements.txt")
    dev_only = requirement_names(ROOT / "requirements-dev.txt") - runtime
    imported_by_grants = set()
    owners = metadata.packages_distributions()
    for top in third_party_imports():
        imported_by_grants |= {_norm(d) for d in owners.get(top, [])}
    assert dev_only & imported_by_grants == set()
    assert not (runtime & requirement_names(ROOT / "requirements-dev.txt")), \
        "a package pinned in both files"

"""YAML read with the line of every value, so that problems can name the line to fix."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class SourceInvalid(Exception):
    """One or more problems in a definition file."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


Path_ = tuple[Any, ...]


class LocatedYaml:
    """Plain Python data from a YAML file, with `line(path)` for any key or item in it."""

    def __init__(self, data: Any, lines: dict[Path_, int], file: str):
        self.data = data
        self._lines = lines
        self.file = file

    def line(self, *path: Any) -> int | None:
        while path:
            if path in self._lines:
                return self._lines[path]
            path = path[:-1]
        return self._lines.get(())

    def duplicate_key_problems(self) -> list[Problem]:
        """A key given twice in one mapping (YAML keeps only the last: a silent loss)."""
        return [Problem(self.file, line, f"'{path[-2]}' is defined twice in the same block; "
                                         f"keep one.")
                for path, line in self._lines.items() if path and path[-1] == "__duplicate__"]

    def problem(self, message: str, *path: Any) -> Problem:
        return Problem(self.file, self.line(*path), message)


def _convert(node: yaml.Node, path: Path_, lines: dict[Path_, int]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node)) if not isinstance(
                key_node, yaml.ScalarNode) else _scalar(key_node)
            if key in result:
                lines[path + (key, "__duplicate__")] = key_node.start_mark.line + 1
            result[key] = _convert(value_node, path + (key,), lines)
            lines[path + (key,)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [_convert(item, path + (index,), lines) for index, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.ScalarNode) -> Any:
    return yaml.SafeLoader(yaml.serialize(node)).get_single_data() if node.tag else node.value


def read_located_yaml(path: Path, display_name: str | None = None) -> LocatedYaml:
    name = display_name or path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceInvalid([Problem(name, None, f"cannot read the file ({exc}).")]) from exc
    return parse_located_yaml(text, name)


def parse_located_yaml(text: str, name: str) -> LocatedYaml:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        what = exc.problem or str(exc)
        raise SourceInvalid([Problem(
            name, line, f"YAML syntax error: {what}. Check indentation and quoting on this line "
                        f"(text containing ':', '?', '#' or ',' inside {{...}} must be in "
                        f"quotes).")]) from exc
    except yaml.YAMLError as exc:
        raise SourceInvalid([Problem(name, None, f"YAML error: {exc}")]) from exc
    lines: dict[Path_, int] = {}
    if node is None:
        return LocatedYaml({}, {(): 1}, name)
    try:
        data = _convert(node, (), lines)
    except yaml.YAMLError as exc:
        raise SourceInvalid([Problem(name, None, f"YAML error: {exc}")]) from exc
    return LocatedYaml(data, lines, name)


class SourceChecker:
    """Collects the problems of one definition file, each with its line; the form and plan
    loaders add their own checks to it."""

    def __init__(self, src: LocatedYaml):
        self.src = src
        self.problems: list[Problem] = src.duplicate_key_problems()

    def add(self, message: str, *path: Any) -> None:
        self.problems.append(self.src.problem(message, *path))

    def keys(self, mapping: dict, allowed: set[str], what: str, *path: Any) -> None:
        for key in mapping:
            if key not in allowed:
                self.add(f"unknown key '{key}' in {what}. Allowed keys: "
                         f"{', '.join(sorted(allowed))}.", *path, key)

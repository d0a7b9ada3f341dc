"""Named guards and effects. YAML refers to them by name; validation rejects unknown names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Registry:
    def __init__(self, kind: str):
        self.kind = kind
        self._functions: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(function: Callable[..., Any]) -> Callable[..., Any]:
            if name in self._functions and self._functions[name] is not function:
                raise ValueError(f"{self.kind} '{name}' registered twice")
            self._functions[name] = function
            return function
        return decorator

    def get(self, name: str) -> Callable[..., Any]:
        return self._functions[name]

    def names(self) -> set[str]:
        return set(self._functions)


guards = Registry("guard")
effects = Registry("effect")

""""What changed since you last saw it": the points a person saw the content at, and what they
were shown there. Features that keep such points register a resolver by the reference's prefix:
approvals ("round-3": the round a member voted on), partners ("confirmation-12": what a
signatory confirmed), submissions ("submission-2": what was sent). The comparison is always with
the content as it was shown and vouched for (kept whole at that moment), never a reconstruction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from grants.applications.models import Application


@dataclass(frozen=True)
class SeenPoint:
    """A moment someone saw the content: what to call it, the content then (None: not kept,
    e.g. a vote cast before versions were kept) and which sections matter to the reader
    (None: all; a partner's confirmation: the common sections and its own part)."""
    label: str
    snapshot: dict[str, Any] | None
    sections: set[str] | None = None


Resolver = Callable[[Application, str], SeenPoint | None]
RESOLVERS: dict[str, Resolver] = {}


def seen_point(prefix: str):
    """Register the resolver of references "<prefix>-<id>" (see the module's docstring)."""
    def decorator(function: Resolver) -> Resolver:
        RESOLVERS[prefix] = function
        return function
    return decorator


def resolve(application: Application, reference: str) -> SeenPoint | None:
    """The point `reference` names on this application (None: no such point, or not this
    application's)."""
    prefix, _sep, ident = (reference or "").partition("-")
    resolver = RESOLVERS.get(prefix)
    if resolver is None or not ident.isdigit():
        return None
    return resolver(application, ident)

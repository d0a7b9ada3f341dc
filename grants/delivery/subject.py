"""The subject line a funder expects, e.g. "Ansökan: {title} – {organisation} ({reference})".

The format is configuration a coordinator types, so it is parsed here – never given to
`str.format` (which would let "{title.__class__}" reach into Python objects) – and only the
named placeholders are filled in. Every value, and the result, has its line breaks removed:
no user text can add a header to the email."""

from __future__ import annotations

import string

from flask_babel import gettext as _

from grants.calls.models import DEFAULT_SUBJECT_FORMAT
from grants.notifications.mail import _clean_header

PLACEHOLDERS = ("document", "title", "organisation", "call", "reference", "number")
MAX_FORMAT_LENGTH = 300


def one_line(value: object) -> str:
    """A header value: line breaks (any kind) and other control characters removed, runs of
    whitespace made one space."""
    text = _clean_header(value)
    return "".join(ch for ch in text if ord(ch) >= 32 and ord(ch) != 127)


def _placeholder_list() -> str:
    return ", ".join("{" + name + "}" for name in PLACEHOLDERS)


def format_problems(fmt: str) -> list[str]:
    """What is wrong with a subject format, in words for the coordinator (empty: fine)."""
    problems: list[str] = []
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in fmt):
        problems.append(_("The subject must be one line without line breaks or tabs."))
    try:
        parts = list(string.Formatter().parse(fmt))
    except ValueError:
        problems.append(_("A brace is not closed. Placeholders are written like {title}; "
                          "write {{ or }} for a brace of its own."))
        return problems
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            problems.append(_("Unknown placeholder “{%(name)s}”. Use only %(allowed)s.",
                              name=name, allowed=_placeholder_list()))
        elif spec or conversion:
            problems.append(_("Write the placeholder as {%(name)s}, without a format or "
                              "conversion.", name=name))
    return problems


def render_subject(fmt: str, values: dict[str, object]) -> str:
    """The subject for `values`; ValueError for a format with problems. The result is one
    line whatever the values contain."""
    fmt = fmt or DEFAULT_SUBJECT_FORMAT
    if format_problems(fmt):
        raise ValueError(f"invalid subject format {fmt!r}")
    out: list[str] = []
    for literal, name, _spec, _conversion in string.Formatter().parse(fmt):
        out.append(literal)
        if name is not None:
            out.append(one_line(values.get(name, "")))
    return one_line("".join(out))

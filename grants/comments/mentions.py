"""@-mentions in a comment's plain text: `@` followed by the name or the email address of a
person on the application ("@Lena Lindqvist", "@lena@kalmar.se"), case-insensitive, at the
start of the text or after a space or punctuation (so an email address in the text is not a
mention). The longest name that fits wins; an `@` that names nobody stays plain text."""

from __future__ import annotations

import re

from grants.accounts.models import User

_AT = re.compile(r"(?<![\w.@])@")


def _labels(people: list[User]) -> list[tuple[str, User]]:
    labels = [(label.casefold(), user) for user in people
              for label in (user.name, user.email) if label]
    return sorted(labels, key=lambda item: -len(item[0]))


def _matches(body: str, people: list[User]):
    """(start, end, user) of each mention, in the order of the text."""
    labels = _labels(people)
    for at in _AT.finditer(body):
        rest = body[at.end():]
        folded = rest.casefold()
        for label, user in labels:
            if not folded.startswith(label):
                continue
            after = folded[len(label):len(label) + 1]
            if after and (after.isalnum() or after == "_"):
                continue
            # The length of the label in the original text (casefold may change it).
            length = next((n for n in range(len(label), len(rest) + 1)
                           if rest[:n].casefold() == label), len(label))
            yield at.start(), at.end() + length, user
            break


def find_mentions(body: str, people: list[User]) -> list[User]:
    """The people the text mentions, each once, in the order of the text."""
    found: dict[int, User] = {}
    for _start, _end, user in _matches(body, people):
        found.setdefault(user.id, user)
    return list(found.values())


def segments(body: str, mentioned: list[User]) -> list[tuple[str, bool]]:
    """The text in pieces, each (text, is a mention), for showing the mentions marked."""
    pieces, position = [], 0
    for start, end, _user in _matches(body, mentioned):
        if start > position:
            pieces.append((body[position:start], False))
        pieces.append((body[start:end], True))
        position = end
    if position < len(body):
        pieces.append((body[position:], False))
    return pieces

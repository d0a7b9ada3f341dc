"""The Swedish texts follow the glossary (`docs/glossary.md`): one Swedish word per concept,
in the catalogue, in the workflow and form files, and in the demo data."""

import ast
import re
from dataclasses import dataclass

import pytest
import yaml
from babel.messages.pofile import read_po

from grants.config import PROJECT_ROOT

GLOSSARY = PROJECT_ROOT / "docs" / "glossary.md"
CATALOGUE = PROJECT_ROOT / "grants" / "translations" / "sv" / "LC_MESSAGES" / "messages.po"


@dataclass(frozen=True)
class Term:
    concept: str
    english: str | None   # None: checked for its forbidden words only
    swedish: str
    forms: tuple[str, ...]
    forbidden: tuple[str, ...]

    def english_pattern(self) -> re.Pattern:
        return re.compile(rf"\b{re.escape(self.english)}(s|'s|s')?\b", re.IGNORECASE)

    def uses_swedish(self, text: str) -> bool:
        """The term or one of its forms, also inside a compound."""
        lowered = text.lower()
        return any(word.lower() in lowered for word in (self.swedish, *self.forms))


PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def prose(text: str) -> str:
    """A message without its placeholders: `%(funder)s` is a name, not the word."""
    return PLACEHOLDER.sub("", text)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def _words(cell: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in cell.split(",") if w.strip() and w.strip() != "–")


def glossary() -> list[Term]:
    """The rows of the table under "## Terms"."""
    text = GLOSSARY.read_text(encoding="utf-8")
    table = text.split("## Terms", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("|")]
    header, rows = _cells(rows[0]), rows[2:]
    assert header == ["concept", "English", "Swedish", "forms", "do not use"], header
    terms = []
    for line in rows:
        concept, english, swedish, forms, forbidden = _cells(line)
        terms.append(Term(concept, None if english == "–" else english, swedish,
                          _words(forms), _words(forbidden)))
    return terms


def forbidden_patterns() -> list[tuple[Term, str, re.Pattern]]:
    return [(term, word, re.compile(rf"(?<![\w-]){re.escape(word)}(?![\w-])", re.IGNORECASE))
            for term in glossary() for word in term.forbidden]


def catalogue_messages() -> list[tuple[str, str]]:
    """(msgid, msgstr) of every message, plural forms each on their own."""
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle, locale="sv")
    pairs = []
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for index, string in enumerate(strings):
            pairs.append((prose(ids[min(index, len(ids) - 1)]), prose(string)))
    return pairs


def _labels(node, where: str):
    """Every {sv: …, en: …} label of a workflow or form file, with the English beside it."""
    if isinstance(node, dict):
        if isinstance(node.get("sv"), str):
            yield where, node.get("en") if isinstance(node.get("en"), str) else None, node["sv"]
        for key, value in node.items():
            yield from _labels(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _labels(value, f"{where}[{index}]")


def definition_labels() -> list[tuple[str, str | None, str]]:
    files = sorted((PROJECT_ROOT / "workflows").glob("*.yaml")) + sorted(
        (PROJECT_ROOT / "workflows" / "forms").glob("*.yaml"))
    assert len(files) >= 6
    found = []
    for path in files:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found.extend(_labels(data, str(path.relative_to(PROJECT_ROOT))))
    return found


SWEDISH_HINT = re.compile(r"[åäöÅÄÖ]|\b(och|för|att|som|med|till|den|det|vi|ska)\b")


def _strings(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def demo_texts() -> list[tuple[str, str]]:
    """The Swedish texts of the demo: every string of the demo data files, and the string
    constants of `grants/demo.py` that are Swedish prose (docstrings, e-mail addresses and
    identifiers are not)."""
    found = []
    for path in sorted((PROJECT_ROOT / "grants" / "demo_data").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        found.extend((str(path.relative_to(PROJECT_ROOT)), s) for s in _strings(data))
    source = PROJECT_ROOT / "grants" / "demo.py"
    tree = ast.parse(source.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and id(node) not in docstrings and " " in node.value
                and "@" not in node.value and SWEDISH_HINT.search(node.value)):
            found.append((f"grants/demo.py:{node.lineno}", node.value))
    assert len(found) > 20
    return found


def test_the_glossary_is_a_table_of_every_concept():
    terms = glossary()
    concepts = {t.swedish for t in terms}
    for swedish in ["samverkanspart", "sökande organisation", "utlysning", "bidragsgivare",
                    "projektledare", "styrgrupp", "medfinansiering", "annat än pengar",
                    "firmatecknare", "befattning", "bekräftelse", "sista ansökningsdag",
                    "arbetsflöde", "status", "avsnitt", "beslut", "jäv"]:
        assert swedish in concepts, swedish
    for term in terms:
        assert term.forbidden, term.concept
        # A forbidden word is never the term itself or one of its forms.
        allowed = {w.lower() for w in (term.swedish, *term.forms)}
        for _term, word, _pattern in forbidden_patterns():
            assert word.lower() not in allowed, (term.concept, word)


def test_no_swedish_message_uses_a_forbidden_word():
    wrong = [f"{msgid!r} → {msgstr!r}: “{word}” (say “{term.swedish}”)"
             for msgid, msgstr in catalogue_messages() if msgstr
             for term, word, pattern in forbidden_patterns() if pattern.search(msgstr)]
    assert not wrong, "\n".join(wrong)


def test_where_the_english_uses_a_term_the_swedish_uses_its_word():
    terms = [t for t in glossary() if t.english]
    wrong = [f"{msgid!r} → {msgstr!r}: “{term.english}” is “{term.swedish}”"
             for msgid, msgstr in catalogue_messages() if msgstr
             for term in terms
             if term.english_pattern().search(msgid) and not term.uses_swedish(msgstr)]
    assert not wrong, "\n".join(wrong)


def test_workflow_and_form_files_follow_the_glossary():
    labels = definition_labels()
    assert len(labels) > 100
    wrong = [f"{where}: {sv!r}: “{word}” (say “{term.swedish}”)"
             for where, _en, sv in labels
             for term, word, pattern in forbidden_patterns() if pattern.search(sv)]
    wrong += [f"{where}: {en!r} → {sv!r}: “{term.english}” is “{term.swedish}”"
              for where, en, sv in labels if en
              for term in glossary()
              if term.english and term.english_pattern().search(en)
              and not term.uses_swedish(sv)]
    assert not wrong, "\n".join(wrong)


def test_demo_data_follows_the_glossary():
    wrong = [f"{where}: {text[:80]!r}: “{word}” (say “{term.swedish}”)"
             for where, text in demo_texts()
             for term, word, pattern in forbidden_patterns() if pattern.search(text)]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("text, word", [
    ("Partnernas underlag ska vara inne", "partnernas"),
    ("Sista dag förlängd", "sista dag"),
    ("Det här flödet ber inte", "flödet"),
])
def test_a_forbidden_word_is_found_in_any_listed_form(text, word):
    assert any(w == word and p.search(text) for _t, w, p in forbidden_patterns())


def test_a_compound_of_the_term_is_the_term():
    steering = next(t for t in glossary() if t.swedish == "styrgrupp")
    assert steering.uses_swedish("Styrgruppsledamot röstade")
    assert not any(p.search("Samverkansparterna") for _t, _w, p in forbidden_patterns())
    assert not any(p.search("arbetsflödet") for _t, _w, p in forbidden_patterns())

"""Every string a user reads exists in Swedish: the catalogue is checked against the messages
extracted from the code and templates right now, so a new untranslated string fails here."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from grants.config import PROJECT_ROOT

CATALOGUE = PROJECT_ROOT / "grants" / "translations" / "sv" / "LC_MESSAGES" / "messages.po"
METHOD_MAP = [("grants/**.py", "python"), ("templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}


def extracted() -> dict[str, list[str]]:
    """msgid → where it is used, for every message in the code and the templates."""
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(PROJECT_ROOT), METHOD_MAP, keywords=KEYWORDS,
            options_map={"templates/**.html": {"extensions": "jinja2.ext.i18n"}}):
        if not (filename.startswith("grants") or filename.startswith("templates")):
            continue
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


def catalogue():
    with CATALOGUE.open("rb") as handle:
        return read_po(handle, locale="sv")


def test_every_message_has_a_swedish_translation():
    catalogue_ = catalogue()
    translated = {}
    for message in catalogue_:
        if not message.id:
            continue
        msgid = message.id[0] if isinstance(message.id, tuple) else message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        translated[msgid] = all(strings) and not message.fuzzy
    messages = extracted()
    assert len(messages) > 500  # the extraction really read the code and the templates
    missing = [f"{msgid!r} ({', '.join(where[:2])})" for msgid, where in sorted(messages.items())
               if not translated.get(msgid)]
    assert not missing, ("untranslated: run `make extract-messages` and translate in "
                         f"{CATALOGUE.relative_to(PROJECT_ROOT)}:\n" + "\n".join(missing))


def test_placeholders_survive_translation():
    """A Swedish string must use the same %(name)s placeholders as the English one."""
    import re  # noqa: PLC0415
    pattern = re.compile(r"%\((\w+)\)[sd]")
    wrong = []
    for message in catalogue():
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(pattern.findall(ids[-1]))
        for text in strings:
            if text and set(pattern.findall(text)) - wanted:
                wrong.append(message.id)
            elif text and wanted - set(pattern.findall(text)) and len(strings) == 1:
                wrong.append(message.id)
    assert not wrong, wrong


def test_the_catalogue_has_no_obsolete_or_fuzzy_entries():
    text = Path(CATALOGUE).read_text(encoding="utf-8")
    assert "#, fuzzy" not in text

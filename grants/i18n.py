"""Language choice and locale-aware formatting (Swedish first, English second)."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_decimal
from flask import request
from flask_babel import get_locale
from flask_login import current_user

LOCALES = ("sv", "en")
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def select_locale() -> str:
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    chosen = request.cookies.get("lang") if request else None
    if chosen in LOCALES:
        return chosen
    return (request.accept_languages.best_match(LOCALES) if request else None) or "sv"


def current_locale() -> str:
    locale = get_locale()
    return str(locale.language) if locale else "sv"


def format_money(value: int | None, locale: str | None = None) -> str:
    """1234567 → '1 234 567 kr' (sv) or 'SEK 1,234,567' (en)."""
    if value is None:
        return ""
    locale = locale or current_locale()
    if locale.startswith("en"):
        return f"SEK {format_decimal(value, locale='en_GB')}"
    return f"{format_decimal(value, locale='sv_SE')} kr"


def format_datetime_local(value: datetime | str | None, locale: str | None = None) -> str:
    """An aware datetime in Stockholm time: '24 november 2026 kl. 23.59' /
    '24 November 2026, 23:59'."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    locale = locale or current_locale()
    return _format_datetime(value, locale.startswith("en"))


@lru_cache(maxsize=4096)
def _format_datetime(value: datetime, english: bool) -> str:
    """Babel's formatting is slow next to the rest of a page, and lists show the same few
    deadlines again and again: each moment is formatted once per language."""
    local = value.astimezone(STOCKHOLM)
    if english:
        return babel_format_datetime(local, "d MMMM y, HH:mm", tzinfo=STOCKHOLM, locale="en_GB")
    return babel_format_datetime(local, "d MMMM y 'kl.' HH.mm", tzinfo=STOCKHOLM, locale="sv_SE")


def format_date_local(value: datetime | str | None, locale: str | None = None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    locale = locale or current_locale()
    return babel_format_date(value.astimezone(STOCKHOLM), "d MMMM y",
                             locale="en_GB" if locale.startswith("en") else "sv_SE")


def pick_label(label: dict | object | None, locale: str | None = None) -> str:
    """Text of a {sv, en} label (dict from a snapshot or a Label object)."""
    if label is None:
        return ""
    locale = locale or current_locale()
    key = "en" if locale.startswith("en") else "sv"
    if isinstance(label, dict):
        return label.get(key) or label.get("sv") or ""
    return getattr(label, key)


def format_number(value: int | None, locale: str | None = None) -> str:
    if value is None:
        return ""
    locale = locale or current_locale()
    return format_decimal(value, locale="en_GB" if locale.startswith("en") else "sv_SE")


def format_iso_date(value: str | None, locale: str | None = None) -> str:
    """'2027-03-31' → '31 mars 2027' / '31 March 2027'."""
    if not value:
        return ""
    locale = locale or current_locale()
    return babel_format_date(date.fromisoformat(value), "d MMMM y",
                             locale="en_GB" if locale.startswith("en") else "sv_SE")


def format_filesize(size: int | None, locale: str | None = None) -> str:
    if size is None:
        return ""
    locale = locale or current_locale()
    babel_locale = "en_GB" if locale.startswith("en") else "sv_SE"
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{format_decimal(round(size / 1024), locale=babel_locale)} kB"
    return f"{format_decimal(round(size / 1048576, 1), locale=babel_locale)} MB"


def option_text(definition, value, locale: str | None = None) -> str:
    """The label of a choice value, from a field or column definition (object or snapshot
    dict); the raw value when the option no longer exists."""
    options = definition["options"] if isinstance(definition, dict) else definition.options
    for option in options:
        option_value = option["value"] if isinstance(option, dict) else option.value
        if option_value == value:
            label = option["label"] if isinstance(option, dict) else option.label
            return pick_label(label, locale)
    return str(value)


def format_time_local(value: datetime) -> str:
    """Clock time in Stockholm: '14.32' (sv) / '14:32' (en)."""
    local = value.astimezone(STOCKHOLM)
    return local.strftime("%H:%M" if current_locale().startswith("en") else "%H.%M")

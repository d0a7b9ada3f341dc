"""Two fields of one form never read the same: in each language, the labels of every WTForms
form of the app, and of every form built from a form definition, are unique within the form
(the signatory's job title once read "Namn" right under the name)."""

import importlib
import pkgutil

import pytest
from flask_babel import force_locale, gettext
from wtforms import StringField

import grants
from grants.formengine.base import AppForm
from grants.formengine.builder import section_form_class
from grants.processes import forms

LOCALES = ["sv", "en"]


def all_form_classes() -> list[type]:
    """Every WTForms form class the app defines (each feature's `forms.py`, and any other
    module), imported from the package itself."""
    for module in pkgutil.walk_packages(grants.__path__, "grants."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    found, todo = set(), [AppForm]
    while todo:
        for subclass in todo.pop().__subclasses__():
            if subclass not in found:
                found.add(subclass)
                todo.append(subclass)
    return sorted((c for c in found if c.__module__.startswith("grants.")),
                  key=lambda c: f"{c.__module__}.{c.__qualname__}")


def duplicate_labels(form) -> dict[str, list[str]]:
    by_label: dict[str, list[str]] = {}
    for field in form:
        if field.type in ("CSRFTokenField", "HiddenField", "SubmitField"):
            continue
        text = " ".join(str(field.label.text).split()).casefold()
        by_label.setdefault(text, []).append(field.name)
    return {label: names for label, names in by_label.items() if len(names) > 1}


def test_the_form_classes_are_found():
    names = {c.__name__ for c in all_form_classes()}
    assert {"SignatoryForm", "CallForm", "UserForm", "InviteForm"} <= names
    assert len(names) > 20


@pytest.mark.parametrize("locale", LOCALES)
def test_every_form_of_the_app_has_unique_labels(app, locale):
    wrong = {}
    with app.test_request_context(), force_locale(locale):
        for form_class in all_form_classes():
            form = form_class(meta={"csrf": False})
            duplicates = duplicate_labels(form)
            if duplicates:
                wrong[form_class.__qualname__] = duplicates
    assert not wrong, wrong


@pytest.mark.parametrize("locale", LOCALES)
def test_every_section_of_every_form_definition_has_unique_labels(app, locale):
    wrong = {}
    with app.test_request_context(), force_locale(locale):
        for name, form_def in forms().items():
            for section in form_def.sections:
                form_class = section_form_class(section, call_limit=None, max_amount=None,
                                                locale=locale)
                duplicates = duplicate_labels(form_class(meta={"csrf": False}))
                if duplicates:
                    wrong[f"{name}.{section.key}"] = duplicates
    assert not wrong, wrong


def test_a_title_and_a_name_read_differently(app):
    """"Title" (of an application or a call) and "Name" were both "Namn" in Swedish."""
    with app.test_request_context(), force_locale("sv"):
        assert gettext("Title") == "Titel" and gettext("Name") == "Namn"
        assert gettext("Job title") == "Befattning"


def test_two_fields_with_one_label_are_found(app):
    class Twice(AppForm):
        name = StringField("Namn")
        title = StringField("Namn")
    with app.test_request_context():
        assert duplicate_labels(Twice(meta={"csrf": False})) == {"namn": ["name", "title"]}

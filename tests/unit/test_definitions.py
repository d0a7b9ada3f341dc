"""Workflow and form files: every problem reported with file and line."""

import pytest

from grants.formengine.definition import check_form_source
from grants.workflow.yamlsource import SourceInvalid, parse_located_yaml


def test_duplicate_key_in_a_form_is_reported_with_its_line():
    text = ("title: {sv: Formulär, en: Form}\nversion: 1\nversion: 2\nsections:\n"
            "  - key: a\n    title: {sv: A, en: A}\n    fields:\n"
            "      - {id: f, type: text, label: {sv: F, en: F}}\n")
    with pytest.raises(SourceInvalid) as raised:
        check_form_source(parse_located_yaml(text, "forms/x.yaml"), "x")
    assert [str(p) for p in raised.value.problems] == [
        "forms/x.yaml:3: 'version' is defined twice in the same block; keep one."]

"""Reporting plans (workflows/reporting/*.yaml) and the `actuals:` rules of a form: the
schedule of a project's documents, every problem named with file and line, and budget against
actual with the rules' messages naming the numbers."""

import textwrap
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from grants.budget.comparison import actual_problems, compare, needs_explanation
from grants.config import PROJECT_ROOT
from grants.formengine.definition import ActualsRules, load_form_text
from grants.workflow.plans import check_plan_source, load_plans, schedule
from grants.workflow.yamlsource import SourceInvalid, parse_located_yaml

PLAN = textwrap.dedent("""\
    title: {sv: Plan, en: Plan}
    version: 1
    revised_budget:
      kind: revised_budget
      label: {sv: Reviderad budget, en: Revised budget}
      form: revised_budget
      workflow: revised_budget
    documents:
      - kind: progress_report
        label: {sv: Lägesrapport, en: Progress report}
        form: esf_lagesrapport
        workflow: report
        due: {every_months: 6, days_after_period: 30}
      - kind: final_report
        label: {sv: Slutrapport, en: Final report}
        form: esf_slutrapport
        workflow: report
        due: {days_after_end: 60}
      - kind: interim
        label: {sv: Delrapport, en: Interim report}
        form: esf_lagesrapport
        workflow: report
        due: {dates: [2027-09-30]}
    """)


def plan(text: str = PLAN):
    return check_plan_source(parse_located_yaml(text, "workflows/reporting/test.yaml"), "test",
                             text)


def test_the_schedule_of_a_project():
    items = schedule(plan(), date(2027, 1, 1), date(2028, 3, 31))
    progress = [i for i in items if i.planned.kind == "progress_report"]
    assert [(i.sequence, i.period_start.isoformat(), i.period_end.isoformat(),
             i.due.isoformat()) for i in progress] == [
        (1, "2027-01-01", "2027-06-30", "2027-07-30"),
        (2, "2027-07-01", "2027-12-31", "2028-01-30"),
        (3, "2028-01-01", "2028-03-31", "2028-04-30")]       # the last period is cut at the end
    final = [i for i in items if i.planned.kind == "final_report"]
    assert [(i.period_start, i.period_end, i.due) for i in final] == [
        (date(2027, 1, 1), date(2028, 3, 31), date(2028, 5, 30))]
    interim = [i for i in items if i.planned.kind == "interim"]
    assert [(i.period_end, i.due) for i in interim] == [(date(2027, 9, 30), date(2027, 9, 30))]
    assert [i.due for i in items] == sorted(i.due for i in items)


def test_a_period_ending_at_a_month_end_keeps_its_length():
    items = schedule(plan(), date(2027, 8, 31), date(2028, 8, 30))
    first = next(i for i in items if i.planned.kind == "progress_report")
    assert first.period_end == date(2028, 2, 28)


@pytest.mark.parametrize("change, message", [
    (("due: {days_after_end: 60}", "due: {days_after_end: 60, every_months: 6}"),
     "needs exactly one of days_after_end, every_months or dates"),
    (("due: {days_after_end: 60}", "due: {days_after_end: 900}"),
     "'days_after_end' must be a whole number from 0 to 365"),
    (("due: {dates: [2027-09-30]}", "due: {dates: [soon]}"),
     "'dates' must be a list of dates written YYYY-MM-DD"),
    (("kind: interim", "kind: progress_report"), "kind 'progress_report' is listed twice"),
    (("kind: interim", "kind: application"), "'application' is the application itself"),
    (("    due: {days_after_end: 60}", "    due: {days_after_end: 60}\n    dues: 1"),
     "unknown key 'dues'"),
    (("label: {sv: Slutrapport, en: Final report}", "label: {sv: Slutrapport}"),
     "needs text in Swedish and English"),
])
def test_a_bad_plan_is_refused_with_file_and_line(change, message):
    old, new = change
    with pytest.raises(SourceInvalid) as refused:
        plan(PLAN.replace(old, new, 1))
    text = str(refused.value)
    assert message in text and "workflows/reporting/test.yaml:" in text


def test_a_plan_naming_a_missing_form_or_workflow_is_refused(tmp_path: Path):
    (tmp_path / "test.yaml").write_text(PLAN.replace("form: esf_slutrapport",
                                                     "form: no_such_form"), encoding="utf-8")
    forms = {"revised_budget", "esf_lagesrapport", "esf_slutrapport"}
    with pytest.raises(SourceInvalid) as refused:
        load_plans(tmp_path, forms, {"report", "revised_budget"})
    assert "form 'no_such_form' does not exist" in str(refused.value)
    assert "test.yaml:16" in str(refused.value)


def test_the_shipped_plans_load():
    forms = {p.stem for p in (PROJECT_ROOT / "workflows" / "forms").glob("*.yaml")}
    workflows = {p.stem for p in (PROJECT_ROOT / "workflows").glob("*.yaml")}
    plans = load_plans(PROJECT_ROOT / "workflows" / "reporting", forms, workflows)
    assert set(plans) == {"kulturradet", "esf", "region"}
    assert [d.kind for d in plans["esf"].documents] == ["progress_report", "payment_claim",
                                                        "final_report"]


FORM = textwrap.dedent("""\
    title: {sv: Rapport, en: Report}
    version: 1
    actuals:
      partners_see: own
      explain_deviation_above_percent: 15
      cofinancing_below_pledge: refuse
    sections:
      - key: one
        title: {sv: Ett, en: One}
        fields:
          - {id: a, type: text, label: {sv: A, en: A}}
    """)


def test_a_form_sets_rules_for_its_actual_figures():
    form = load_form_text(FORM, "report", "workflows/forms/report.yaml")
    assert form.actuals == ActualsRules(partners_see="own", explain_deviation_above_percent=15,
                                        cofinancing_below_pledge="refuse")
    plain = load_form_text(FORM.split("actuals:")[0] + FORM.split("refuse\n")[1], "plain", "x")
    assert plain.actuals == ActualsRules()


@pytest.mark.parametrize("old, new, message", [
    ("partners_see: own", "partners_see: some", "'partners_see' must be one of all, own"),
    ("refuse", "always", "'cofinancing_below_pledge' must be one of warn, refuse, ignore"),
    ("15", "-3", "must be a whole number"),
    ("partners_see: own", "claims_payment: maybe", "'claims_payment' must be true or false"),
    ("partners_see: own", "share: 1", "unknown key 'share'"),
])
def test_bad_rules_are_refused_with_file_and_line(old, new, message):
    with pytest.raises(SourceInvalid) as refused:
        load_form_text(FORM.replace(old, new, 1), "report", "workflows/forms/report.yaml")
    assert message in str(refused.value) and "workflows/forms/report.yaml:" in str(refused.value)


@dataclass
class Row:
    organisation_id: int
    amount: int
    category: str = "personnel"
    year: int = 2027


def test_budget_against_actual_and_the_rules_name_the_numbers():
    comparison = compare(
        organisations=[(1, "Kalmar"), (2, "Växjö")],
        baseline_lines=[Row(1, 200_000), Row(2, 150_000), Row(2, 50_000, "travel")],
        earlier_lines=[Row(2, 100_000)], actual_lines=[Row(1, 200_000), Row(2, 80_000)],
        baseline_cofinancing=[Row(2, 100_000)], actual_cofinancing=[Row(2, 60_000)])
    vaxjo = comparison.organisation(2)
    personnel = vaxjo.cells[("personnel", 2027)]
    assert (personnel.budget, personnel.earlier, personnel.current, personnel.variance) == \
        (150_000, 100_000, 80_000, 30_000)
    assert round(personnel.percent, 1) == 20.0
    assert vaxjo.categories["travel"].variance == -50_000
    rules = ActualsRules(explain_deviation_above_percent=15, cofinancing_below_pledge="warn")
    assert [(o.name, c) for o, c, _f in needs_explanation(comparison, rules)] == [
        ("Växjö", "personnel"), ("Växjö", "travel")]
    refused, flagged = actual_problems(comparison, rules, {(2, "travel")},
                                       money=lambda n: f"{n} kr", category=str,
                                       gettext=lambda s, **kw: s % kw)
    assert refused == ["Växjö, personnel: the actual cost 180000 kr differs from the budget "
                       "150000 kr by +20,0 %; above 15 % a written explanation is needed."]
    assert flagged == ["Växjö: the actual co-financing 60000 kr is below the pledged "
                       "100000 kr (40000 kr less)."]
    # Without the rule nothing is flagged; a refusing rule refuses.
    assert actual_problems(comparison, ActualsRules(), set(), money=str, category=str,
                           gettext=lambda s, **kw: s % kw) == ([], [])
    refused, _ = actual_problems(comparison, ActualsRules(cofinancing_below_pledge="refuse"),
                                 set(), money=str, category=str,
                                 gettext=lambda s, **kw: s % kw)
    assert len(refused) == 1 and "Växjö" in refused[0]
    # Another organisation's figures are left out when the reader sees only its own.
    own = compare(organisations=[(2, "Växjö")], baseline_lines=[Row(1, 1), Row(2, 5)],
                  actual_lines=[Row(1, 7)], baseline_cofinancing=[], actual_cofinancing=[])
    assert [o.name for o in own.organisations] == ["Växjö"] and own.costs.budget == 5

"""Workflow pictures: CLI formats, the workflow page, the application page highlight."""

import re

from grants.workflow.diagram import BRAND, HIGHLIGHT
from tests.factories import FULL_ANSWERS


def test_cli_prints_mermaid_dot_and_svg(app):
    runner = app.test_cli_runner()
    mermaid = runner.invoke(args=["workflow", "show", "two_stage", "--lang", "en"])
    assert mermaid.exit_code == 0
    assert mermaid.output.startswith("stateDiagram-v2")
    assert "[*] --> concept_note" in mermaid.output
    assert "concept_review --> full_application : Give the go-ahead" in mermaid.output
    dot = runner.invoke(args=["workflow", "show", "two_stage", "--format", "dot"])
    assert dot.output.startswith("digraph two_stage {") and "Projektskiss" in dot.output
    svg = runner.invoke(args=["workflow", "show", "two_stage", "--format", "svg",
                              "--current", "full_application"])
    assert svg.output.startswith("<svg") and "Fullständig ansökan" in svg.output
    missing = runner.invoke(args=["workflow", "show", "nope"])
    assert missing.exit_code != 0 and "Known: joint_application" in missing.output


def test_workflow_page_draws_every_state_in_the_users_language(login_as, world):
    browser = login_as("lead@demo.test")
    html = browser.get("/workflows/joint_application").get_data(as_text=True)
    svg = html[html.index("<svg"):html.index("</svg>")]
    for label in ["Utkast", "Samverkansparternas bekräftelse", "Intern granskning", "Styrgruppsbeslut",
                  "Beviljad", "Avslagen", "Återtagen"]:
        assert label in svg
    assert "<script" not in svg and "<?xml" not in html
    assert "alla obligatoriska fält ifyllda" in html  # the guard in words, in the table
    browser.post("/language", {"lang": "en"})
    html = browser.get("/workflows/joint_application").get_data(as_text=True)
    assert "Partner confirmation" in html[html.index("<svg"):]
    assert browser.get("/workflows/").status_code == 200
    assert browser.get("/workflows/nope").status_code == 404


def _node(svg: str, state: str) -> str:
    match = re.search(rf'<g id="state__{state}" class="node">(.*?)</g>', svg, re.S)
    assert match, state
    return match.group(1)


def _edge(svg: str, name: str, source: str) -> str:
    match = re.search(rf'<g id="transition__{name}__{source}" class="edge">(.*?)</g>', svg, re.S)
    assert match, name
    return match.group(1)


def test_application_page_highlights_state_and_my_actions(login_as, world):
    application = world.new_application(state="internal_review", answers=FULL_ANSWERS)
    coordinator = login_as("coordinator@demo.test").get(
        f"/applications/{application.id}/history").get_data(as_text=True)
    svg = coordinator[coordinator.index("<svg"):coordinator.index("</svg>")]
    assert BRAND in _node(svg, "internal_review") and BRAND not in _node(svg, "draft")
    assert HIGHLIGHT in _edge(svg, "send_to_steering", "internal_review")
    assert HIGHLIGHT in _edge(svg, "request_changes", "internal_review")
    assert HIGHLIGHT not in _edge(svg, "withdraw", "internal_review")  # the lead's, not mine
    assert "Du kan: Skicka till styrgruppen, Begär ändringar." in coordinator
    lead = login_as("lead@demo.test").get(f"/applications/{application.id}/history").get_data(
        as_text=True)
    lead_svg = lead[lead.index("<svg"):lead.index("</svg>")]
    assert HIGHLIGHT in _edge(lead_svg, "withdraw", "internal_review")
    assert HIGHLIGHT not in _edge(lead_svg, "send_to_steering", "internal_review")

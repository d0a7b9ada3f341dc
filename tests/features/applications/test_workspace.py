"""The application's workspace (issue 17): every tab has its own URL and the header every tab
shares says whose turn it is, with the reader's own actions first and linked to where they act."""

import re

import pytest

from grants.applications.models import TransitionRecord
from grants.db import db
from grants.processes import get_workflow
from tests.factories import FULL_ANSWERS, add_partner, vote

TABS = ["", "/sections", "/partners", "/budget", "/decision", "/documents", "/history"]


def label(transition: str) -> str:
    """The Swedish label the workflow file gives a transition."""
    return get_workflow("joint_application").transitions[transition].label.sv


def whose_turn(html: str) -> list[str]:
    """The lines of the header's "whose turn it is", as text."""
    block = re.search(r'<div class="whose-turn".*?</div>', html, re.S)
    assert block, "no whose-turn block"
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip()
            for item in re.findall(r"<li[^>]*>(.*?)</li>", block.group(0), re.S)]


def turn_links(html: str) -> list[str]:
    block = re.search(r'<div class="whose-turn".*?</div>', html, re.S).group(0)
    return re.findall(r'href="([^"]+)"', block)


@pytest.mark.parametrize("email", ["lead@demo.test", "other@demo.test", "steering1@demo.test",
                                   "coordinator@demo.test"])
def test_every_tab_has_its_url_and_marks_itself_current(login_as, world, email):
    application = world.new_application(answers=FULL_ANSWERS)
    add_partner(world, application, signatory=True)
    browser = login_as(email)
    for tab in TABS:
        response = browser.get(f"/applications/{application.id}{tab}")
        assert response.status_code == 200, (tab, response.status_code)
        html = response.get_data(as_text=True)
        nav = re.search(r'<nav class="workspace-tabs".*?</nav>', html, re.S).group(0)
        current = re.findall(r'<a href="([^"]+)" aria-current="page"', nav)
        assert current == [f"/applications/{application.id}{tab}"], (tab, current)
        # every tab is one click away from every other, in the wide nav and the phone menu
        for other in TABS:
            assert html.count(f'href="/applications/{application.id}{other}"') >= 2, (tab, other)
        assert f"<h1 id=\"application-title\">{application.title}</h1>" in html


def test_tabs_are_not_yours_for_an_outsider(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS)
    outsider = login_as("steering2@demo.test")
    world.call.steering_group_id = None
    db.session.commit()
    for tab in TABS:
        assert outsider.get(f"/applications/{application.id}{tab}").status_code == 404, tab


def test_each_tab_holds_its_part(login_as, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    base = f"/applications/{application.id}"
    member = login_as("steering1@demo.test")
    overview = member.get(base).get_data(as_text=True)
    assert 'id="checklist"' in overview and 'id="deadlines"' in overview
    assert 'id="history-title"' not in overview and '/vote"' not in overview
    assert 'id="sections-title"' in member.get(base + "/sections").get_data(as_text=True)
    decision = member.get(base + "/decision").get_data(as_text=True)
    assert f'action="{base}/vote"' in decision and 'id="decision"' in decision
    assert 'id="history-title"' in member.get(base + "/history").get_data(as_text=True)
    assert 'id="documents-title"' in member.get(base + "/documents").get_data(as_text=True)


def test_whose_turn_in_draft_names_the_lead_and_gives_the_lead_the_action(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS)
    add_partner(world, application, signatory=True)
    lead_html = login_as("lead@demo.test").get(f"/applications/{application.id}").get_data(
        as_text=True)
    assert whose_turn(lead_html) == [f"Du: {label('send_to_partners')}"]
    assert turn_links(lead_html) == [f"/applications/{application.id}#actions"]
    assert 'id="actions"' in lead_html
    partner_html = login_as("other@demo.test").get(f"/applications/{application.id}") \
        .get_data(as_text=True)
    # withdrawing is open to the lead in every state, and never anybody's turn
    assert whose_turn(partner_html) == [
        f"Lena Lindqvist (projektledaren): {label('send_to_partners')}"]
    assert turn_links(partner_html) == []


def test_whose_turn_while_partners_confirm_links_the_signatory_to_the_form(login_as, world):
    application = world.new_application(state="partner_confirmation", answers=FULL_ANSWERS)
    partner = add_partner(world, application, signatory=True)
    html = login_as("other@demo.test").get(f"/applications/{application.id}").get_data(
        as_text=True)
    lines = whose_turn(html)
    assert lines[0] == "Du: Bekräfta deltagande och medfinansiering för Växjö stadsbibliotek"
    link = turn_links(html)[0]
    assert link == f"/applications/{application.id}/partners#confirm-{partner.id}"
    # the link leads to the form the signatory confirms with
    target = login_as("other@demo.test").get(link.split("#")[0]).get_data(as_text=True)
    form = re.search(rf'<div[^>]*id="confirm-{partner.id}".*?</form>', target, re.S)
    assert form and 'name="authorised"' in form.group(0)
    # the overview's "What you can do" offers it too, where it used to say "nothing"
    actions = re.search(r'<section[^>]*id="actions".*?</section>', html, re.S).group(0)
    assert f'href="{link}"' in actions and "Inget för dig att göra" not in actions
    # the lead sees that it is the partner's signatory who confirms, and no link
    lead_html = login_as("lead@demo.test").get(f"/applications/{application.id}").get_data(
        as_text=True)
    assert not [link for link in turn_links(lead_html) if "#confirm-" in link]
    assert ("Olle Öberg (firmatecknare, Växjö stadsbibliotek): Bekräfta deltagande och "
            "medfinansiering för Växjö stadsbibliotek") in whose_turn(lead_html)
    # the lead organisation has named nobody who signs for it yet: the line says so
    assert ("Kalmar stadsbibliotek (ingen firmatecknare utsedd ännu): Bekräfta deltagande och "
            "medfinansiering för Kalmar stadsbibliotek") in whose_turn(lead_html)


def test_undoing_the_last_move_is_nobodys_turn(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS)
    add_partner(world, application, signatory=True)
    db.session.add(TransitionRecord(application_id=application.id,
                                    transition="send_to_partners", from_state="draft",
                                    to_state="partner_confirmation",
                                    actor_id=world.users["lead"].id))
    application.state = "partner_confirmation"
    db.session.commit()
    lines = whose_turn(login_as("lead@demo.test").get(f"/applications/{application.id}")
                       .get_data(as_text=True))
    assert f"Du: {label('send_to_review')}" in lines
    assert not [line for line in lines if label("back_to_draft") in line]


def test_whose_turn_in_a_vote_names_who_has_not_voted(login_as, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    first = login_as("steering1@demo.test")
    html = first.get(f"/applications/{application.id}").get_data(as_text=True)
    mine = [line for line in whose_turn(html) if line.startswith("Du:")]
    assert mine == [f"Du: Rösta om ”{label('approve')}”"]
    assert f"/applications/{application.id}/decision#decision" in turn_links(html)
    vote(first, application, "approve")
    html = first.get(f"/applications/{application.id}").get_data(as_text=True)
    assert not [line for line in whose_turn(html) if line.startswith("Du:")]
    assert f"Omar Haddad (styrgruppen): Rösta om ”{label('approve')}”" in whose_turn(html)
    assert "Sara Ek" not in " ".join(whose_turn(html))


def test_a_refused_vote_comes_back_on_the_decision_tab(login_as, world):
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    member = login_as("steering1@demo.test")
    response = vote(member, application, "changes", "")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    nav = re.search(r'<nav class="workspace-tabs".*?</nav>', html, re.S).group(0)
    assert f'href="/applications/{application.id}/decision" aria-current="page"' in nav


def test_a_final_state_says_nothing_more_is_anyones_to_do(login_as, world):
    application = world.new_application(state="withdrawn", answers=FULL_ANSWERS)
    html = login_as("lead@demo.test").get(f"/applications/{application.id}").get_data(
        as_text=True)
    assert whose_turn(html) == []
    assert "slutlig status" in html


def test_saving_a_section_returns_to_it_on_the_sections_tab(login_as, world):
    application = world.new_application(answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    page = lead.get(f"/applications/{application.id}/sections/summary").get_data(as_text=True)
    version = re.search(r'name="version" type="hidden" value="(\d+)"', page).group(1)
    response = lead.post(f"/applications/{application.id}/sections/summary",
                         {**{k: v for k, v in FULL_ANSWERS["summary"].items()
                             if isinstance(v, str)}, "version": version})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(
        f"/applications/{application.id}/sections#section-summary")
    html = lead.get(f"/applications/{application.id}/sections").get_data(as_text=True)
    assert 'id="section-summary"' in html

"""Comments per section: threads on a section, a partner's part or the budget, for the team or
for the team and the steering group; replies, @-mentions that notify by the person's choice,
resolve and reopen; never in the snapshot, always in the history and the export."""

from __future__ import annotations

import email
import email.policy
import re

import pytest
from sqlalchemy import func, select

from grants.applications.queries import current_partners, load_answers
from grants.applications.snapshot import build_snapshot, fingerprint
from grants.approvals.models import Recusal
from grants.audit import AuditEvent
from grants.comments.models import Comment, CommentMention, CommentThread
from grants.db import db
from grants.notifications.models import Notification, NotificationPreference, OutboxEmail
from grants.processes import form_for
from tests.factories import add_partner, make_user, name_signatory

FORM = "kulturradet_utveckling"


@pytest.fixture
def setting(world):
    """An application on the world's call (steering group: Sara Ek, Omar Haddad) with two
    partners: Växjö (Olle Öberg) and Linnéuniversitetet (Paula Partner)."""
    world.call.form_name = FORM
    db.session.commit()
    application = world.new_application(form=FORM, answers={"summary": {"summary": "Mål"}})
    vaxjo = add_partner(world, application, "vaxjo", "other_lead")
    world.users["partner2"] = make_user("partner2@demo.test", "Paula Partner", world.orgs["lnu"])
    db.session.commit()
    lnu = add_partner(world, application, "lnu", "partner2")
    world.users["outsider"] = make_user("outsider@demo.test", "Ulla Utanför", world.orgs["kalmar"])
    db.session.commit()
    return {"app": application, "vaxjo": vaxjo, "lnu": lnu}


def url(application, rest: str = "") -> str:
    return f"/applications/{application.id}/comments{rest}"


def start(browser, application, target: str, body: str, audience: str = "team"):
    return browser.post(url(application), {"thread-target": target, "thread-audience": audience,
                                           "thread-body": body})


def reply(browser, thread_id: int, application, body: str):
    return browser.post(url(application, f"/{thread_id}/replies"),
                        {f"reply-{thread_id}-body": body})


def threads() -> list[CommentThread]:
    return list(db.session.scalars(select(CommentThread).order_by(CommentThread.id)))


def page(browser, application, target: str | None = None) -> str:
    query = f"?target={target}" if target else ""
    response = browser.get(url(application, query))
    assert response.status_code == 200
    return response.get_data(as_text=True)


# --- starting, replying, visibility -----------------------------------------------------------
def test_the_lead_starts_a_thread_and_a_partner_replies(setting, login_as):
    application = setting["app"]
    lead = login_as("lead@demo.test")
    response = start(lead, application, "summary", "Kan vi korta sammanfattningen?")
    assert response.status_code == 303
    [thread] = threads()
    assert (thread.target, thread.audience, thread.status) == ("summary", "team", "open")
    assert f"#thread-{thread.id}" in response.headers["Location"]
    partner = login_as("other@demo.test")
    assert reply(partner, thread.id, application, "Ja, jag tar det.").status_code == 303
    html = page(partner, application, "summary")
    assert "Kan vi korta sammanfattningen?" in html and "Ja, jag tar det." in html
    # The sections tab shows the open thread beside the section, linked.
    sections = lead.get(f"/applications/{application.id}/sections").get_data(as_text=True)
    assert "1 öppen kommentarstråd" in sections or "1 open comment thread" in sections
    assert f"/applications/{application.id}/comments?target=summary" in sections


def test_a_steering_member_never_sees_a_team_thread(setting, login_as):
    application = setting["app"]
    lead = login_as("lead@demo.test")
    start(lead, application, "summary", "Internt: budgeten är för hög.", "team")
    start(lead, application, "summary", "Till styrgruppen: vad tycker ni?", "steering")
    team, steering = threads()
    member = login_as("steering1@demo.test")
    html = page(member, application, "summary")
    assert "Till styrgruppen" in html and "Internt" not in html
    # Nor through its link, a reply, a resolve or the history.
    assert member.get(url(application, f"/{team.id}")).status_code == 404
    assert reply(member, team.id, application, "Hej").status_code == 404
    assert member.post(url(application, f"/{team.id}/resolve")).status_code == 404
    history = member.get(f"/applications/{application.id}/history").get_data(as_text=True)
    assert "Internt" not in history and "Till styrgruppen" in history
    # The sections tab counts only the steering thread for the member.
    sections = member.get(f"/applications/{application.id}/sections").get_data(as_text=True)
    assert re.search(r"1 (öppen kommentarstråd|open comment thread)", sections)
    # A member writes in the steering group's threads only.
    assert reply(member, steering.id, application, "Vi tar det på mötet.").status_code == 303
    refused = start(member, application, "summary", "Försök", "team")
    assert refused.status_code == 422
    assert len(threads()) == 2
    assert start(member, application, "budget", "Fråga om budgeten", "steering"
                 ).status_code == 303


def test_a_recused_member_sees_no_steering_thread(setting, login_as, world):
    application = setting["app"]
    start(login_as("lead@demo.test"), application, "summary", "Till styrgruppen", "steering")
    db.session.add(Recusal(application_id=application.id, user_id=world.users["steering2"].id,
                           reason="Jag är gift med projektledaren."))
    db.session.commit()
    recused = login_as("steering2@demo.test")
    assert "Till styrgruppen" not in page(recused, application, "summary")
    refused = start(recused, application, "summary", "Jag vill säga något", "steering")
    assert refused.status_code == 303
    assert "Du kan inte starta en tråd i den här ansökan." in recused.get(
        refused.headers["Location"]).get_data(as_text=True)
    [thread] = threads()
    assert recused.get(url(application, f"/{thread.id}")).status_code == 404
    assert "Till styrgruppen" in page(login_as("steering1@demo.test"), application, "summary")


def test_partners_see_the_common_sections_the_budget_and_the_parts_the_tab_shows(
        setting, login_as):
    application, vaxjo, lnu = setting["app"], setting["vaxjo"], setting["lnu"]
    lead = login_as("lead@demo.test")
    for target, text in [("summary", "Om sammanfattningen"), ("budget", "Om budgeten"),
                         (f"partner_part@{vaxjo.id}", "Om Växjös del"),
                         (f"partner_part@{lnu.id}", "Om LNU:s del")]:
        assert start(lead, application, target, text).status_code == 303
    partner = login_as("other@demo.test")
    everything = page(partner, application)
    # The sections tab shows every current partner's part to everyone on the application, so
    # do the threads on them.
    for text in ("Om sammanfattningen", "Om budgeten", "Om Växjös del", "Om LNU:s del"):
        assert text in everything
    assert "Om Växjös del" in page(partner, application, f"partner_part@{vaxjo.id}")
    # A part no longer on the application (a removed partner): lead and coordinators only.
    lnu.status = "removed"
    db.session.commit()
    assert "Om LNU:s del" not in page(partner, application)
    assert "Om LNU:s del" in page(lead, application)
    assert "Om LNU:s del" in page(login_as("coordinator@demo.test"), application)
    assert partner.get(url(application, f"?target=partner_part@{lnu.id}")).status_code == 404


def test_outsiders_get_404_everywhere_and_threads_of_another_application_are_404(
        setting, login_as, world):
    application = setting["app"]
    start(login_as("lead@demo.test"), application, "summary", "Hemligt")
    [thread] = threads()
    outsider = login_as("outsider@demo.test")
    for path in ("", "?target=summary", f"/{thread.id}"):
        assert outsider.get(url(application, path)).status_code == 404
    assert start(outsider, application, "summary", "Intrång").status_code == 404
    assert reply(outsider, thread.id, application, "Intrång").status_code == 404
    for action in ("resolve", "reopen"):
        assert outsider.post(url(application, f"/{thread.id}/{action}")).status_code == 404
    other = world.new_application(form=FORM, title="Annan ansökan")
    lead = login_as("lead@demo.test")
    assert lead.get(url(other, f"/{thread.id}")).status_code == 404
    assert reply(lead, thread.id, other, "Fel ansökan").status_code == 404
    assert lead.post(url(other, f"/{thread.id}/resolve")).status_code == 404
    assert lead.get(url(application, "?target=no_such_section")).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 1


def test_a_signatory_is_on_the_team(setting, login_as, world):
    application = setting["app"]
    signer = make_user("signer@demo.test", "Siv Signerare", world.orgs["vaxjo"])
    db.session.commit()
    name_signatory(application, world.orgs["vaxjo"].id, signer)
    db.session.commit()
    start(login_as("lead@demo.test"), application, "summary", "För teamet")
    assert "För teamet" in page(login_as("signer@demo.test"), application, "summary")


# --- resolve and reopen -----------------------------------------------------------------------
def test_resolve_and_reopen_by_the_lead_the_coordinator_and_the_author(setting, login_as):
    application = setting["app"]
    partner = login_as("other@demo.test")
    start(partner, application, "summary", "Partnerns fråga")
    [thread] = threads()
    other_partner = login_as("partner2@demo.test")
    refused = other_partner.post(url(application, f"/{thread.id}/resolve"),
                                 follow_redirects=True)
    assert "Bara projektledaren, en samordnare eller den som startade tråden" in \
        refused.get_data(as_text=True)
    assert threads()[0].status == "open"
    assert partner.post(url(application, f"/{thread.id}/resolve")).status_code == 303
    thread = threads()[0]
    assert thread.status == "resolved" and thread.resolved_by_id is not None
    assert thread.resolved_at is not None
    # A resolved thread takes no reply until it is reopened.
    refused = reply(partner, thread.id, application, "En sak till")
    assert refused.status_code == 422
    assert "Tråden är löst. Öppna den igen för att svara." in refused.get_data(as_text=True)
    lead = login_as("lead@demo.test")
    assert lead.post(url(application, f"/{thread.id}/reopen")).status_code == 303
    assert threads()[0].status == "open" and threads()[0].resolved_by_id is None
    assert login_as("coordinator@demo.test").post(
        url(application, f"/{thread.id}/resolve")).status_code == 303
    assert threads()[0].status == "resolved"


# --- validation -------------------------------------------------------------------------------
def test_an_empty_or_too_long_comment_is_refused_and_the_text_kept(setting, login_as):
    application = setting["app"]
    lead = login_as("lead@demo.test")
    empty = start(lead, application, "summary", "   ")
    assert empty.status_code == 422
    html = empty.get_data(as_text=True)
    assert "Det finns ett problem" in html and "Skriv en kommentar." in html
    assert 'href="#thread-body"' in html  # the summary on top links to the field
    long_text = "å" * 5001
    too_long = start(lead, application, "summary", long_text)
    assert too_long.status_code == 422
    html = too_long.get_data(as_text=True)
    assert "Högst 5000 tecken." in html and long_text in html
    assert threads() == []
    start(lead, application, "summary", "Första")
    [thread] = threads()
    refused = reply(lead, thread.id, application, "")
    assert refused.status_code == 422 and "Skriv en kommentar." in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 1


def test_posts_without_the_csrf_token_are_refused(setting, login_as):
    application = setting["app"]
    lead = login_as("lead@demo.test")
    response = lead.post(url(application), {"thread-target": "summary",
                                            "thread-audience": "team", "thread-body": "Hej"},
                         csrf=False)
    assert response.status_code == 303  # back, with the message that the page expired
    assert threads() == []


# --- mentions ---------------------------------------------------------------------------------
def received(smtp_server) -> list[email.message.EmailMessage]:
    return [email.message_from_bytes(m.content, policy=email.policy.default)
            for m in smtp_server.messages]


def test_a_mention_notifies_by_the_persons_choice(setting, login_as, world, smtp_server,
                                                 run_worker):
    application = setting["app"]
    db.session.merge(NotificationPreference(user_id=world.users["partner2"].id,
                                            category="comment", delivery="digest"))
    db.session.commit()
    lead = login_as("lead@demo.test")
    body = "@Olle Öberg och @partner2@demo.test: kan ni titta på detta?"
    assert start(lead, application, "summary", body).status_code == 303
    [comment] = db.session.scalars(select(Comment)).all()
    mentioned = set(db.session.scalars(select(CommentMention.user_id)))
    assert mentioned == {world.users["other_lead"].id, world.users["partner2"].id}
    notes = {n.user_id: n for n in db.session.scalars(select(Notification).where(
        Notification.kind == "comment_mention"))}
    assert notes[world.users["other_lead"].id].delivery == "email"
    assert notes[world.users["partner2"].id].delivery == "digest"
    run_worker()
    to = [m["To"] for m in received(smtp_server)]
    assert to == ["other@demo.test"]
    mail = received(smtp_server)[0]
    assert "Lena Lindqvist" in mail["Subject"]
    assert "kan ni titta på detta?" in mail.get_content()
    thread = threads()[0]
    assert f"/applications/{application.id}/comments/{thread.id}" in mail.get_content()
    # The link leads to the thread.
    response = login_as("other@demo.test").get(url(application, f"/{thread.id}"))
    assert response.status_code == 303
    assert f"target=summary#thread-{thread.id}" in response.headers["Location"]
    # The mentions are marked on the page.
    html = page(lead, application, "summary")
    assert '<strong class="mention">@Olle Öberg</strong>' in html


def test_a_mention_of_someone_who_cannot_see_the_thread_is_refused_by_name(setting,
                                                                          login_as):
    application = setting["app"]
    lead = login_as("lead@demo.test")
    text = "Vad tycker @Sara Ek om detta?"
    refused = start(lead, application, "summary", text, "team")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Sara Ek kan inte se den här tråden" in html and text in html
    assert threads() == []
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    # In a thread the steering group sees, the mention goes through.
    assert start(lead, application, "summary", text, "steering").status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.kind == "comment_mention")) == 1


def test_an_email_address_in_the_text_is_not_a_mention(setting, login_as):
    application = setting["app"]
    lead = login_as("lead@demo.test")
    start(lead, application, "summary", "Skriv till info@other@demo.test eller @nobody.")
    assert db.session.scalar(select(func.count()).select_from(CommentMention)) == 0


def test_a_reply_tells_those_who_wrote_in_the_thread(setting, login_as, world):
    application = setting["app"]
    start(login_as("other@demo.test"), application, "summary", "Fråga från Växjö")
    [thread] = threads()
    reply(login_as("lead@demo.test"), thread.id, application, "Svar från Kalmar")
    [note] = db.session.scalars(select(Notification).where(
        Notification.kind == "comment_reply")).all()
    assert note.user_id == world.users["other_lead"].id
    assert note.link == f"/applications/{application.id}/comments/{thread.id}"


# --- never in the content; in the history and the export ------------------------------------
def content_fingerprint(application) -> str:
    form = form_for(application)
    return fingerprint(build_snapshot(application, form, load_answers(application.id),
                                      current_partners(application.id)))


def test_comments_leave_the_fingerprint_as_it_was(setting, login_as):
    application = setting["app"]
    before = content_fingerprint(application)
    lead = login_as("lead@demo.test")
    start(lead, application, "summary", "En kommentar")
    [thread] = threads()
    reply(login_as("other@demo.test"), thread.id, application, "Ett svar")
    lead.post(url(application, f"/{thread.id}/resolve"))
    start(lead, application, "budget", "Om budgeten", "steering")
    assert content_fingerprint(application) == before
    export = lead.get(f"/applications/{application.id}/export.json").get_json(force=True)
    assert export["fingerprint"] == before
    assert "comment" not in str(export["snapshot"]).lower() or \
        "En kommentar" not in str(export["snapshot"])


def test_the_history_shows_every_thread_reply_resolve_and_reopen(setting, login_as):
    application = setting["app"]
    lead = login_as("lead@demo.test")
    start(lead, application, "summary", "Historisk kommentar")
    [thread] = threads()
    reply(lead, thread.id, application, "Historiskt svar")
    lead.post(url(application, f"/{thread.id}/resolve"))
    lead.post(url(application, f"/{thread.id}/reopen"))
    actions = list(db.session.scalars(select(AuditEvent.action).where(
        AuditEvent.action.like("comment.%")).order_by(AuditEvent.id)))
    assert actions == ["comment.thread", "comment.reply", "comment.resolve", "comment.reopen"]
    html = lead.get(f"/applications/{application.id}/history").get_data(as_text=True)
    for words in ("Kommentarstråd startad", "Svar i en kommentarstråd", "Kommentarstråd löst",
                  "Kommentarstråd öppnad igen", "Historisk kommentar", "Historiskt svar"):
        assert words in html, words
    assert "Sammanfattning" in html  # the part the thread is on, by its title


def test_the_export_carries_the_threads_the_reader_sees(setting, login_as):
    application = setting["app"]
    lead = login_as("lead@demo.test")
    start(lead, application, "summary", "Bara för teamet")
    start(lead, application, "summary", "Även för styrgruppen", "steering")
    team_thread, _steering_thread = threads()
    reply(login_as("other@demo.test"), team_thread.id, application, "Teamets svar")
    export = lead.get(f"/applications/{application.id}/export.json").get_json(force=True)
    assert [t["audience"] for t in export["comments"]] == ["team", "steering"]
    assert [c["body"] for c in export["comments"][0]["comments"]] == ["Bara för teamet",
                                                                       "Teamets svar"]
    assert export["comments"][0]["started_by"] == "Lena Lindqvist"
    member = login_as("steering1@demo.test")
    export = member.get(f"/applications/{application.id}/export.json").get_json(force=True)
    assert [t["comments"][0]["body"] for t in export["comments"]] == ["Även för styrgruppen"]
    assert "comments" not in export["snapshot"]


def test_the_outbox_is_not_used_for_a_digest_choice(setting, login_as, world):
    application = setting["app"]
    db.session.merge(NotificationPreference(user_id=world.users["other_lead"].id,
                                            category="comment", delivery="digest"))
    db.session.commit()
    start(login_as("lead@demo.test"), application, "summary", "Hej @Olle Öberg")
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 0

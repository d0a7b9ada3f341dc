"""Access matrix generated from the URL map: every route is called as every role – anonymous,
the lead, a partner of this application and of another, a steering member, a recused steering
member, a steering member of another group, the lead of another application, a coordinator – on
the application it concerns and on a foreign one. Every route must be listed in ROUTES below,
so a new route is in the matrix the day it is added (test_every_route_is_in_the_matrix).

Statuses: 200 page, 303 redirect back with a message (refused or done), 403 not allowed
(administration), 404 "missing or not yours" (never telling which), 302 to the login page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from grants.accounts.models import User
from grants.applications.models import Application, SectionAnswer, TransitionRecord
from grants.approvals.models import Recusal, Vote, VoteRound
from grants.budget.models import BudgetLine, Cofinancing
from grants.calls.models import Call
from grants.comments.models import Comment, CommentThread
from grants.db import db, utcnow
from grants.documents.models import Attachment, Document
from grants.jobs.models import Job
from grants.notifications.models import Notification
from grants.partners.models import ApplicationPartner, PartnerConfirmation, Signatory
from grants.steering.models import SteeringGroup, SteeringMember
from grants.submissions.models import Submission
from tests.conftest import Browser
from tests.factories import make_user

# --- who --------------------------------------------------------------------------------------
# Role on the target application T  →  the account.
INSIDERS = {
    "lead": "lead@demo.test",                 # T's project lead (Kalmar)
    "partner": "other@demo.test",             # contact of T's partner Växjö
    "steering": "steering1@demo.test",        # member of T's steering group
    "recused": "steering2@demo.test",         # member too, but works for LNU, T's partner: jäv
    "coordinator": "coordinator@demo.test",
}
# Roles that have nothing to do with T (each has its part in the foreign application F).
OUTSIDERS = {
    "lead_elsewhere": "lead2@demo.test",       # lead of F
    "partner_elsewhere": "foreign@demo.test",  # partner of F only
    "steering_elsewhere": "steering9@demo.test",  # member of F's steering group only
}
ROLES = {**INSIDERS, **OUTSIDERS}
EVERYONE = set(ROLES)
COORD = {"coordinator"}
STEERING_ROLES = {"steering", "recused", "steering_elsewhere", "coordinator"}

# --- what: every route, and which roles reach it ----------------------------------------------
# For application routes: the roles (on T) that reach the route; every other role gets 404
# (and on F, every role but the coordinator gets 404). For other routes: the roles that reach
# it; the others get the status in `denied` (404 unless stated). Reaching a POST route means
# getting past the access check – the operation may still refuse (303 with a message).
ANYONE_ON_T = set(INSIDERS)
ROUTES: dict[str, dict] = {
    # public
    "static": {"public": True},
    "health": {"public": True},
    "about.accessibility": {"public": True},
    "accounts.login": {"public": True},
    "accounts.set_language": {"public": True},
    "accounts.accept_invitation": {"public": True},
    "accounts.forgot_password": {"public": True},
    "accounts.reset_password": {"public": True},
    "partners.accept": {"public": True},
    # any logged-in user
    "accounts.logout": {"reach": EVERYONE},
    "accounts.change_password": {"reach": EVERYONE},
    "dashboard.index": {"reach": EVERYONE},
    "applications.new": {"reach": EVERYONE},
    "reuse.start": {"reach": EVERYONE},       # lists only the user's own to start from
    "workflows.index": {"reach": EVERYONE},
    "workflows.show": {"reach": EVERYONE},
    "notifications.index": {"reach": EVERYONE},
    "notifications.mark_read": {"reach": EVERYONE},
    "notifications.settings": {"reach": EVERYONE},
    "notifications.open_note": {"reach": {"lead"}},  # the note is the lead's own
    # everyone may search; what they find is what they may see (tests/features/search)
    "search.results": {"reach": EVERYONE},
    # the portfolio: coordinators and steering members
    "portfolio.index": {"reach": STEERING_ROLES},
    "portfolio.export": {"reach": STEERING_ROLES},
    # application routes
    "applications.show": {"reach": ANYONE_ON_T},
    "applications.sections": {"reach": ANYONE_ON_T},
    "applications.decision": {"reach": ANYONE_ON_T},
    "applications.documents": {"reach": ANYONE_ON_T},
    "applications.history": {"reach": ANYONE_ON_T},
    "applications.job_status": {"reach": ANYONE_ON_T},
    "applications.export_json": {"reach": ANYONE_ON_T},
    "applications.attachment": {"reach": ANYONE_ON_T},
    "applications.download": {"reach": ANYONE_ON_T},
    "applications.edit_section": {"reach": ANYONE_ON_T},
    "applications.transition": {"reach": ANYONE_ON_T},
    "applications.preview": {"reach": ANYONE_ON_T},
    "applications.move_to_current_workflow": {"reach": ANYONE_ON_T},
    "applications.form_version": {"reach": COORD},  # moving to the current form version
    "approvals.vote": {"reach": ANYONE_ON_T},
    "approvals.recusal": {"reach": ANYONE_ON_T},
    "budget.index": {"reach": ANYONE_ON_T},
    "budget.add_line": {"reach": ANYONE_ON_T},
    "budget.add_cofinancing": {"reach": ANYONE_ON_T},
    "budget.delete": {"reach": ANYONE_ON_T},
    "budget.explain": {"reach": ANYONE_ON_T},
    "reporting.project": {"reach": ANYONE_ON_T},
    "collaboration.versions": {"reach": ANYONE_ON_T},
    "collaboration.restore": {"reach": ANYONE_ON_T},
    "collaboration.changes": {"reach": ANYONE_ON_T},
    "collaboration.still_editing": {"reach": ANYONE_ON_T},
    "collaboration.stopped_editing": {"reach": ANYONE_ON_T},
    "partners.index": {"reach": ANYONE_ON_T},
    "partners.remove": {"reach": ANYONE_ON_T},
    "partners.contact": {"reach": ANYONE_ON_T},
    "partners.confirm": {"reach": ANYONE_ON_T},
    "partners.confirm_lead": {"reach": ANYONE_ON_T},
    "partners.signatory": {"reach": ANYONE_ON_T},
    "partners.certificate": {"reach": ANYONE_ON_T},
    "deadlines.extend": {"reach": ANYONE_ON_T},
    # comment threads: anyone on T reaches the pages (the recused member sees no steering
    # thread there); a thread's routes need a thread the role sees (404 otherwise)
    "comments.index": {"reach": ANYONE_ON_T},
    "comments.start": {"reach": ANYONE_ON_T},
    "comments.thread": {"reach": ANYONE_ON_T - {"recused"}},
    "comments.reply": {"reach": ANYONE_ON_T},
    "comments.resolve": {"reach": ANYONE_ON_T},
    "comments.reopen": {"reach": ANYONE_ON_T},
    "delivery.portal_receipt": {"reach": ANYONE_ON_T},
    "delivery.resolve": {"reach": ANYONE_ON_T},
    "submissions.decision": {"reach": ANYONE_ON_T},
    # starting from an application (T is led by Kalmar): the lead's organisation only
    "reuse.copy": {"reach": {"lead"}},
    "reuse.link": {"reach": {"lead"}},
    "reuse.unlink": {"reach": {"lead"}},
    "reuse.result": {"reach": ANYONE_ON_T},   # what a copy carried over (T: none, back)
    # the copy of record: the lead and coordinators only
    "submissions.dossier": {"reach": {"lead", "coordinator"}},
    "submissions.snapshot": {"reach": {"lead", "coordinator"}},
}
ADMIN_DENIED = 403
# Blueprints of the administration (coordinators only, 403 for every other role): the admin
# pages and the webhooks' pages under /admin/webhooks.
ADMIN_PREFIXES = ("admin.", "webhooks.")


def _admin_routes(app):
    return {rule.endpoint for rule in app.url_map.iter_rules() if rule.endpoint.startswith(
        ADMIN_PREFIXES)}


# --- the setting ------------------------------------------------------------------------------
@pytest.fixture
def setting(world):
    """T: the target application on the world's call (steering group BISS), in the steering
    group's decision, with partners Växjö and LNU, budget, documents, an attachment, a job, a
    submission and the lead's notification. F: a foreign application on another call with its
    own steering group, lead and partner."""
    world.call.form_name = "kulturradet_utveckling"
    db.session.commit()
    target = world.new_application(form="kulturradet_utveckling", state="steering_approval",
                                   answers={"summary": {"summary": "Mål"}})
    partner2 = make_user("partner2@demo.test", "Paula Partner", world.orgs["lnu"])
    lead2 = make_user("lead2@demo.test", "Lars Annan", world.orgs["sydost"])
    foreign = make_user("foreign@demo.test", "Fia Främling", world.orgs["lnu"])
    steering9 = make_user("steering9@demo.test", "Stina Annan", world.orgs["sydost"])
    db.session.flush()
    other_group = SteeringGroup(name="Annan styrgrupp")
    db.session.add(other_group)
    db.session.flush()
    db.session.add(SteeringMember(group_id=other_group.id, user_id=steering9.id))
    other_call = Call(funder_id=world.call.funder_id, title="Annan utlysning",
                      opens_at=utcnow() - timedelta(days=10),
                      deadline_at=utcnow() + timedelta(days=30),
                      workflow_name="joint_application", form_name="kulturradet_utveckling",
                      steering_group_id=other_group.id)
    db.session.add(other_call)
    db.session.commit()
    world.users.update({"lead2": lead2, "foreign": foreign})
    saved_call = world.call
    world.call = other_call
    foreign_app = world.new_application(form="kulturradet_utveckling", lead="lead2",
                                        title="Annan ansökan", state="steering_approval")
    world.call = saved_call
    vaxjo = ApplicationPartner(application_id=target.id, organisation_id=world.orgs["vaxjo"].id,
                               contact_name="V", contact_email="other@demo.test",
                               contact_user_id=world.users["other_lead"].id, status="active")
    lnu = ApplicationPartner(application_id=target.id, organisation_id=world.orgs["lnu"].id,
                             contact_name="L", contact_email="partner2@demo.test",
                             contact_user_id=partner2.id, status="active")
    elsewhere = ApplicationPartner(application_id=foreign_app.id,
                                   organisation_id=world.orgs["lnu"].id, contact_name="F",
                                   contact_email="foreign@demo.test",
                                   contact_user_id=foreign.id, status="active")
    db.session.add_all([vaxjo, lnu, elsewhere])
    db.session.flush()
    line = BudgetLine(application_id=target.id, organisation_id=world.orgs["kalmar"].id,
                      category="personnel", year=2027, description="Lead", amount=1000)
    cofin = Cofinancing(application_id=target.id, organisation_id=world.orgs["kalmar"].id,
                        kind="cash", source="public", year=2027, description="K", amount=10)
    document = Document(application_id=target.id, kind="final", fingerprint="f" * 64,
                        filename="a.pdf", size=4, sha256="0" * 64, content=b"%PDF")
    attachment = Attachment(application_id=target.id, field_id="letter_of_intent",
                            filename="b.pdf", kind="pdf", mime_type="application/pdf", size=4,
                            sha256="1" * 64, content=b"%PDF")
    reading = Document(application_id=target.id, kind="reading_copy", fingerprint="e" * 64,
                       filename="a-lasexemplar.pdf", size=4, sha256="2" * 64, content=b"%PDF")
    job = Job(kind="render_application", application_id=target.id, payload={})
    note = Notification(user_id=world.users["lead"].id, application_id=target.id, kind="x",
                        subject="Till dig", link=f"/applications/{target.id}")
    # A thread the steering group sees too (the recused member does not: jäv).
    thread = CommentThread(application_id=target.id, target="summary", audience="steering",
                           created_by_id=world.users["lead"].id)
    db.session.add_all([line, cofin, document, reading, attachment, job, note, thread])
    db.session.flush()
    db.session.add(Comment(thread_id=thread.id, author_id=world.users["lead"].id, body="Hej"))
    from grants.applications.queries import current_partners, load_answers
    from grants.applications.snapshot import fingerprint
    from grants.processes import form_for
    from grants.submissions.operations import submission_snapshot
    snapshot = submission_snapshot(target, form_for(target), load_answers(target.id),
                                   current_partners(target.id), number=1, submitted_at=utcnow(),
                                   actor=world.user("lead"))
    db.session.add(Submission(application_id=target.id, number=1, snapshot=snapshot,
                              sha256=fingerprint(snapshot), submitted_by_id=world.users["lead"].id,
                              final_document_id=document.id, reading_document_id=reading.id))
    db.session.commit()
    values = {"partner_id": lnu.id, "section_key": "summary", "name": "submit",
              "document_id": document.id, "attachment_id": attachment.id, "job_id": job.id,
              "item_id": line.id, "kind": "lines", "number": 1, "note_id": note.id,
              "name_of_workflow": "joint_application", "token": "not-a-token",
              "target": "summary", "thread_id": thread.id}
    return {"T": dict(values, application_id=target.id),
            "F": dict(values, application_id=foreign_app.id),
            "own_partner_id": vaxjo.id, "target": target.id, "foreign": foreign_app.id}


def build(rule, values) -> str:
    url = rule.rule
    for argument in rule.arguments:
        value = values.get(argument)
        if argument == "name" and rule.endpoint.startswith("workflows."):
            value = values["name_of_workflow"]
        elif argument == "name" and rule.endpoint.startswith("admin."):
            value = "standard"
        elif argument == "filename":
            value = "css/app.css"
        elif argument == "section_key" and "<int:partner_id>" in rule.rule:
            value = "partner_part"  # a partner's own part
        elif value is None:
            value = 1  # ids of administration objects: the first of each
        url = re.sub(rf"<(?:[a-z]+:)?{argument}>", str(value), url)
    return url


def state_of_database() -> dict:
    counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in (
        SectionAnswer, TransitionRecord, BudgetLine, Cofinancing, Document, Attachment, Job,
        ApplicationPartner, PartnerConfirmation, Signatory, Vote, Recusal, Submission, VoteRound,
        User, Call, CommentThread, Comment)}
    counts["threads"] = sorted((t.id, t.status) for t in db.session.scalars(select(CommentThread)))
    counts["applications"] = sorted((a.id, a.state, a.title, a.lead_user_id, a.call_id,
                                     a.workflow_version, a.form_version, a.state_version)
                                    for a in db.session.scalars(select(Application)))
    counts["partners"] = sorted((p.id, p.status, p.contact_email, p.contact_user_id,
                                 p.organisation_id) for p in db.session.scalars(
        select(ApplicationPartner)))
    counts["answers"] = sorted((r.id, r.version) for r in db.session.scalars(select(SectionAnswer)))
    counts["users"] = sorted((u.id, u.is_coordinator, u.is_active_account, u.password_hash)
                             for u in db.session.scalars(select(User)))
    db.session.rollback()
    return counts


# Fields a forger adds to every post: the state, another lead, another partner or organisation,
# a target state, a different owner.
def forged(setting, world) -> dict:
    return {"state_version": "1", "version": "0", "summary": "Intrång", "state": "granted",
            "lead_user_id": str(world.users["other_lead"].id),
            "lead_id": str(world.users["other_lead"].id),
            "partner_id": str(setting["T"]["partner_id"]),
            "organisation_id": str(world.orgs["lnu"].id), "to_state": "granted",
            "contact_email": "x@example.org", "contact_name": "X", "user_id": "1",
            "is_coordinator": "y", "application_id": str(setting["foreign"]),
            "round_id": "1", "fingerprint": "0" * 64, "choice": "approve"}


def application_rules(app):
    return [r for r in app.url_map.iter_rules() if "application_id" in r.arguments]


def methods(rule):
    return sorted(rule.methods - {"HEAD", "OPTIONS"})


@pytest.fixture
def browsers(app, setting):
    """A logged-in browser per role (logged in once, reused)."""
    made: dict[str, Browser] = {}

    def get(role: str) -> Browser:
        if role not in made:
            browser = Browser(app)
            response = browser.login(ROLES[role])
            assert response.status_code == 303, (role, response.status_code)
            made[role] = browser
        return made[role]
    return get


# --- the tests --------------------------------------------------------------------------------
def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = endpoints - set(ROUTES) - _admin_routes(app)
    assert not missing, f"routes missing from the access matrix: {sorted(missing)}"
    assert not set(ROUTES) - endpoints, f"stale entries: {sorted(set(ROUTES) - endpoints)}"
    assert len(application_rules(app)) >= 25  # the map really was read


def test_anonymous_reaches_only_public_routes(app, setting):
    before = state_of_database()
    anonymous = Browser(app)
    anonymous.csrf_token("/login")
    for rule in app.url_map.iter_rules():
        spec = ROUTES.get(rule.endpoint, {})
        url = build(rule, setting["T"])
        for method in methods(rule):
            response = anonymous.get(url) if method == "GET" else anonymous.post(
                url, {"email": "x@example.org", "password": "x", "lang": "en"})
            response.close()
            if spec.get("public"):
                assert response.status_code < 500, (method, url, response.status_code)
            else:
                assert response.status_code == 302, (method, url, response.status_code)
                assert "/login" in response.headers["Location"], (method, url)
    assert state_of_database() == before


def test_foreign_application_routes_are_404_for_every_role_but_the_coordinator(
        app, setting, world, browsers):
    """Every route of an application is 404 – exactly as for a missing one – to everybody who
    has no part in it, whatever they are elsewhere, and forged posts change nothing."""
    before = state_of_database()
    rules = application_rules(app)
    for role in ROLES:
        if role == "coordinator":
            continue
        browser = browsers(role)
        application = "T" if role in OUTSIDERS else "F"
        for rule in rules:
            url = build(rule, setting[application])
            for method in methods(rule):
                response = browser.get(url) if method == "GET" else browser.post(
                    url, forged(setting, world))
                assert response.status_code == 404, (role, method, url, response.status_code)
        # A missing application answers the same.
        missing = build(rules[0], dict(setting["T"], application_id=999_999))
        assert browser.get(missing).status_code == 404 or "GET" not in rules[0].methods
    assert state_of_database() == before


def test_each_role_reaches_exactly_its_routes(app, setting, world, browsers):
    """GET every route as every role: reached (200, or a redirect back with a message) for the
    roles in ROUTES, 404 (administration: 403, login page: a redirect) for the others."""
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or ROUTES.get(rule.endpoint, {}).get("public"):
            continue
        admin = rule.endpoint.startswith(ADMIN_PREFIXES)
        reach = COORD if admin else ROUTES[rule.endpoint]["reach"]
        url = build(rule, setting["T"])
        for role in ROLES:
            response = browsers(role).get(url)
            response.close()
            if role in reach:
                # (An administration URL may name an object the setting lacks: 404 there.)
                allowed = (200, 303, 404) if admin else (200, 303)
                assert response.status_code in allowed, (role, url, response.status_code)
            else:
                assert response.status_code == (ADMIN_DENIED if admin else 404), \
                    (role, url, response.status_code)


def test_posts_of_roles_without_the_right_change_nothing(app, setting, world, browsers):
    """Every POST route, as every role that is not the one who may use it (administration as
    non-coordinators, the copy of record as partners and steering members) and with forged
    fields: refused, and the database is exactly as before."""
    before = state_of_database()
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or ROUTES.get(rule.endpoint, {}).get("public"):
            continue
        admin = rule.endpoint.startswith(ADMIN_PREFIXES)
        reach = COORD if admin else ROUTES[rule.endpoint]["reach"]
        url = build(rule, setting["T"])
        for role in ROLES:
            if role in reach:
                continue
            response = browsers(role).post(url, forged(setting, world))
            assert response.status_code == (ADMIN_DENIED if admin else 404), \
                (role, url, response.status_code)
    assert state_of_database() == before


def test_steering_members_and_partners_cannot_change_what_is_not_theirs(app, setting, world,
                                                                       browsers):
    """A partner, a steering member and a recused member of T post every changing route of T
    with forged fields (the state, another lead, another partner's id, a vote on a round they
    were not shown, the copy of record): nothing changes. (The partner's own part and budget
    are its own to change, so the forged partner_id points at the *other* partner.)"""
    before = state_of_database()
    skipped = {"applications.preview",   # any participant may make a draft PDF
               "accounts.logout", "accounts.set_language", "notifications.mark_read",
               "notifications.open_note", "notifications.settings", "applications.new",
               "accounts.change_password"}
    for role in ("partner", "steering", "recused"):
        browser = browsers(role)
        for rule in application_rules(app):
            if "POST" not in rule.methods or rule.endpoint in skipped:
                continue
            values = dict(setting["T"])
            if rule.endpoint == "applications.edit_section" and "<int:partner_id>" in rule.rule:
                values["section_key"] = "partner_part"  # the other partner's own part
            for version in ("0", "1"):  # a new row, and the one that exists
                response = browser.post(build(rule, values), dict(forged(setting, world),
                                                                  version=version))
                assert response.status_code < 500, (role, rule.rule, response.status_code)
    assert state_of_database() == before
    assert db.session.get(ApplicationPartner, setting["T"]["partner_id"]).status == "active"


def test_forged_fields_of_the_lead_and_the_coordinator_are_ignored(app, setting, world,
                                                                  browsers):
    """Those who may save a section or fire a transition cannot smuggle in the state, another
    lead or another application through extra fields."""
    target = setting["target"]
    lead = browsers("lead")
    response = lead.post(f"/applications/{target}/sections/background", dict(
        forged(setting, world), background="Ny bakgrund", version="0"))
    assert response.status_code == 303
    assert db.session.scalar(select(SectionAnswer).where(
        SectionAnswer.application_id == target, SectionAnswer.section_key == "background")
    ).data["background"] == "Ny bakgrund"
    application = db.session.get(Application, target)
    assert application.state == "steering_approval"
    assert application.lead_user_id == world.users["lead"].id
    assert db.session.get(Application, setting["foreign"]).state == "steering_approval"
    coordinator = browsers("coordinator")
    coordinator.post(f"/applications/{target}/transitions/request_changes", dict(
        forged(setting, world), comment="Ändra budgeten.",
        state_version=str(application.state_version)))
    db.session.expire_all()
    application = db.session.get(Application, target)
    assert application.state == "changes_requested"  # the transition named in the URL …
    assert application.lead_user_id == world.users["lead"].id  # … and nothing else
    assert db.session.get(Application, setting["foreign"]).state == "steering_approval"


def test_a_recused_member_can_neither_vote_nor_declare_again(app, setting, world, browsers):
    from grants.approvals.rounds import open_round
    target = setting["target"]
    round_ = open_round(target)
    response = browsers("recused").post(f"/applications/{target}/vote", {
        "round_id": str(round_.id), "choice": "approve", "comment": "",
        "fingerprint": round_.fingerprint}, follow_redirects=True)
    assert response.status_code == 200
    assert db.session.scalar(select(func.count(Vote.id))) == 0
    # The member of another group cannot vote on T at all (404, as for a missing application).
    response = browsers("steering_elsewhere").post(f"/applications/{target}/vote", {
        "round_id": str(round_.id), "choice": "approve", "fingerprint": round_.fingerprint})
    assert response.status_code == 404
    assert db.session.scalar(select(func.count(Vote.id))) == 0


def test_nobody_opens_someone_elses_notification(app, setting, browsers):
    note_id = setting["T"]["note_id"]
    for role in ROLES:
        if role == "lead":
            continue
        assert browsers(role).post(f"/notifications/{note_id}/open").status_code == 404, role
    assert db.session.get(Notification, note_id).read_at is None

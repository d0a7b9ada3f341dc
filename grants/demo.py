"""Demo data: real counties, municipalities and funders of south-east Sweden (from
demo_data/sydost.yaml) with fictional organisation numbers, demo accounts and open calls, each
with its reporting plan, an application being drafted, one awaiting the steering group's vote,
and a project the funder has granted that is reporting (docs/reporting.md). Running it twice
changes nothing the second time."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from grants.accounts.models import User
from grants.accounts.operations import create_user
from grants.applications.models import Application, SectionAnswer, TransitionRecord
from grants.applications.queries import current_partners, load_answers
from grants.audit import audit
from grants.budget.models import BudgetLine, Cofinancing
from grants.calls.models import STOCKHOLM, Call, Funder
from grants.canonical import fingerprint
from grants.collaboration.models import BUDGET, PARTNERS
from grants.collaboration.revisions import SECTIONS, keep_revisions
from grants.comments.models import Comment, CommentMention, CommentThread
from grants.db import db, utcnow
from grants.deadlines.operations import schedule_reminders
from grants.delivery.models import Delivery, DeliveryAttempt
from grants.delivery.operations import email_subject, submission_address
from grants.documents.models import Attachment
from grants.jobs.models import Job
from grants.jobs.runner import enqueue_job
from grants.organisations.models import Organisation, OrganisationKind
from grants.organisations.orgnr import make_fictional
from grants.partners.models import ApplicationPartner
from grants.processes import form_for, get_form, get_workflow, pin_form, pin_workflow, workflow_for
from grants.reuse.models import ApplicationLink, ProjectGroup
from grants.search.indexing import rebuild_index
from grants.steering.models import SteeringGroup, SteeringMember
from grants.submissions.models import FunderDecision, Submission
from grants.submissions.operations import record_decision, submission_snapshot
from grants.workflow.plans import add_months

DEMO_DATA = Path(__file__).parent / "demo_data" / "sydost.yaml"
ESF_CALL = "Kompetensutveckling för digital delaktighet"
ESF_PROJECT = "Digitala vägledare – kompetenslyft för bibliotekspersonal i sydost"
#: The same project applied for at the region too: linked with the ESF project (docs/reuse.md).
REGION_PROJECT = "Digitala vägledare i Kalmar län"
DEMO_PASSWORD = "demo-password"
#: The application under way that the README walks through.
DEMO_APPLICATION_TITLE = "Digital delaktighet i sydost – bibliotek som navet"
CITY_LIBRARIES = {"Kalmar", "Växjö", "Karlskrona"}

DEMO_USERS = [
    # email, name, organisation, coordinator?, steering?
    ("lead@demo.test", "Lena Lindqvist", "Kalmar stadsbibliotek", False, False),
    ("partner@demo.test", "Per Andersson", "Växjö stadsbibliotek", False, False),
    ("steering1@demo.test", "Sara Ek", "Länsbibliotek Sydost", False, True),
    ("steering2@demo.test", "Omar Haddad", "Regionbiblioteket i Kalmar län", False, True),
    ("steering3@demo.test", "Karin Nyberg", "Linnéuniversitetet", False, True),
    ("partner2@demo.test", "Lina Nordin", "Linnéuniversitetet", False, False),
    ("coordinator@demo.test", "Cecilia Holm", "Länsbibliotek Sydost", True, False),
]


def _library_name(municipality: str) -> str:
    kind = "stadsbibliotek" if municipality in CITY_LIBRARIES else "folkbibliotek"
    return f"{municipality} {kind}"


def _deadline_in(days: int) -> datetime:
    day = (utcnow().astimezone(STOCKHOLM) + timedelta(days=days)).date()
    return datetime.combine(day, time(23, 59), tzinfo=STOCKHOLM)


class _Seeder:
    def __init__(self) -> None:
        self.created: dict[str, int] = {}
        self._serial = 0

    def count(self, what: str) -> None:
        self.created[what] = self.created.get(what, 0) + 1

    def organisation(self, name: str, county: str, kind: OrganisationKind) -> Organisation:
        self._serial += 1
        org = db.session.scalar(select(Organisation).where(Organisation.name == name))
        if org is None:
            org = Organisation(name=name, county=county, kind=kind, is_fictional=True,
                               org_number=make_fictional(1000 + self._serial))
            db.session.add(org)
            self.count("organisations")
        return org

    def funder(self, name: str, short: str, slug: str, email: str) -> Funder:
        funder = db.session.scalar(select(Funder).where(Funder.slug == slug))
        if funder is None:
            funder = Funder(name=name, short_name=short, slug=slug, submission_email=email)
            db.session.add(funder)
            self.count("funders")
        return funder


def seed(data_path: Path | None = None) -> str:
    data: dict[str, Any] = yaml.safe_load((data_path or DEMO_DATA).read_text(encoding="utf-8"))
    s = _Seeder()
    orgs: dict[str, Organisation] = {}
    for county in data["counties"]:
        cname = county["name"]
        orgs[county["regional_body"]] = s.organisation(county["regional_body"], cname,
                                                       OrganisationKind.region)
        lib = county["regional_library"]
        if lib not in orgs:
            orgs[lib] = s.organisation(lib, cname, OrganisationKind.regional_library)
        for municipality in county["municipalities"]:
            name = _library_name(municipality)
            orgs[name] = s.organisation(name, cname, OrganisationKind.public_library)
    university_county = {"Linnéuniversitetet": "Kronobergs län",
                         "Blekinge Tekniska Högskola": "Blekinge län"}
    for university in data.get("universities", []):
        orgs[university] = s.organisation(university, university_county.get(university, ""),
                                          OrganisationKind.university)
    db.session.flush()

    funders = {}
    for entry in data["funders"]:
        short = entry.get("short", entry["name"])
        slug = {"Kulturrådet": "kulturradet", "ESF-rådet": "esf-radet"}.get(
            short, short.lower().replace(" ", "-").replace("ä", "a").replace("å", "a")
            .replace("ö", "o"))
        funders[short] = s.funder(entry["name"], short, slug, f"registrator@{slug}.example")

    users: dict[str, User] = {}
    for email, name, org_name, is_coordinator, _steering in DEMO_USERS:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = create_user(email=email, name=name, password=DEMO_PASSWORD,
                               is_coordinator=is_coordinator)
            user.organisations.append(orgs[org_name])
            s.count("users")
        users[email] = user
    db.session.flush()

    group_name = data["steering_group"]["name"]
    group = db.session.scalar(select(SteeringGroup).where(SteeringGroup.name == group_name))
    if group is None:
        group = SteeringGroup(name=group_name)
        db.session.add(group)
        db.session.flush()
        for index, (email, *_rest, steering) in enumerate(DEMO_USERS):
            if steering:
                db.session.add(SteeringMember(group_id=group.id, user_id=users[email].id,
                                              is_chair=index == 2))
        s.count("steering groups")

    calls_spec = [
        ("Kulturrådet", "Utvecklingsbidrag för bibliotek 2027",
         "Stöd till projekt som utvecklar folkbibliotekens verksamhet, särskilt digital "
         "delaktighet och läsfrämjande.", 75, 4000, 2_000_000, "joint_application",
         "kulturradet_utveckling", "kulturradet"),
        ("ESF-rådet", ESF_CALL,
         "Gemensam kompetensutveckling för bibliotekspersonal i sydost.", 100, 6000, 8_000_000,
         "two_stage", "esf_kompetens", "esf"),
        ("Region Kalmar län", "Regionalt utvecklingsbidrag, bibliotek",
         "Mindre bidrag för samverkan mellan kommunerna i länet.", 45, 2500, 300_000,
         "single_stage", "region_smabidrag", "region"),
    ]
    calls = {}
    for (funder_short, title, description, days, max_chars, max_amount, workflow_name,
         form_name, plan) in calls_spec:
        call = db.session.scalar(select(Call).where(Call.title == title))
        if call is None:
            call = Call(funder_id=funders[funder_short].id, title=title, description=description,
                        opens_at=utcnow() - timedelta(days=14), deadline_at=_deadline_in(days),
                        workflow_name=workflow_name, form_name=form_name,
                        form_version=get_form(form_name).version, reporting_plan=plan,
                        max_chars_per_field=max_chars, max_requested_amount=max_amount,
                        steering_group_id=group.id)
            db.session.add(call)
            s.count("calls")
        elif call.reporting_plan is None:   # seeded before calls had reporting plans
            call.reporting_plan = plan
            s.count("reporting plans")
        calls[title] = call
    db.session.flush()

    title = DEMO_APPLICATION_TITLE
    if db.session.scalar(select(Application).where(Application.title == title)) is None:
        call = calls["Utvecklingsbidrag för bibliotek 2027"]
        workflow = get_workflow(call.workflow_name)
        form = get_form(call.form_name)
        application = Application(
            call_id=call.id, lead_organisation_id=orgs["Kalmar stadsbibliotek"].id,
            lead_user_id=users["lead@demo.test"].id, title=title, language="sv",
            workflow_name=workflow.name, workflow_version=workflow.version, form_name=form.name,
            state=workflow.initial)
        db.session.add(application)
        pin_workflow(workflow)
        application.form_version = pin_form(form)
        db.session.flush()
        db.session.add(TransitionRecord(application_id=application.id, transition="create",
                                        from_state="", to_state=workflow.initial,
                                        actor_id=users["lead@demo.test"].id))
        texts = {
            "summary": {"summary": "Biblioteken i Kalmar, Kronobergs och Blekinge län bygger "
                        "tillsammans upp digitala vägledare som når äldre och nyanlända.",
                        "start_date": "2027-08-15", "end_date": "2029-06-30"},
            "background": {"background": "Många invånare i sydöstra Sverige står utanför den "
                           "**digitala välfärden**. Biblioteken möter dem varje dag:\n\n"
                           "- äldre som inte kan använda BankID\n- nyanlända som söker "
                           "samhällsinformation"},
            "target_groups": {"target_groups": [{"group": "Äldre över 70 år", "count": 600},
                                                {"group": "Nyanlända", "count": 250}]},
        }
        for key, values in texts.items():
            db.session.add(SectionAnswer(application_id=application.id, section_key=key,
                                         data=values, updated_by_id=users["lead@demo.test"].id))
        partner = ApplicationPartner(
            application_id=application.id, organisation_id=orgs["Växjö stadsbibliotek"].id,
            contact_name=users["partner@demo.test"].name, contact_email="partner@demo.test",
            contact_user_id=users["partner@demo.test"].id, status="active")
        db.session.add(partner)
        db.session.flush()
        _seed_signatories(application, users["lead@demo.test"], [
            (orgs["Kalmar stadsbibliotek"], users["lead@demo.test"], "Bibliotekschef"),
            (orgs["Växjö stadsbibliotek"], users["partner@demo.test"], "Bibliotekschef")])
        # Reminder rows for its milestones; the worker's start-up sweep puts them into RQ's
        # scheduler (the embedded Redis of `make demo` does not run yet while seeding).
        schedule_reminders(application, push=False)
        s.count("applications")
    demo_application = db.session.scalar(select(Application).where(
        Application.title == DEMO_APPLICATION_TITLE))
    if db.session.scalar(select(CommentThread.id).where(
            CommentThread.application_id == demo_application.id).limit(1)) is None:
        _seed_comments(demo_application, users)
        s.count("comment threads")
    title = "Läsfrämjande för unga i Blekinge och Kronoberg"
    if db.session.scalar(select(Application).where(Application.title == title)) is None:
        _seed_decision_in_progress(title, calls["Utvecklingsbidrag för bibliotek 2027"], orgs,
                                   users)
        s.count("applications")
    if db.session.scalar(select(Application).where(Application.title == ESF_PROJECT)) is None:
        _seed_granted_project(calls[ESF_CALL], orgs, users)
        s.count("granted projects")
    if db.session.scalar(select(Application).where(Application.title == REGION_PROJECT)) is None:
        _seed_linked_application(calls["Regionalt utvecklingsbidrag, bibliotek"], orgs, users)
        s.count("linked applications")
    # Version 1 of what the demo's documents say, so their versions pages start from it.
    for document in db.session.scalars(select(Application).order_by(Application.id)):
        keep_revisions(document, document.lead_user_id, [SECTIONS, BUDGET, PARTNERS])
    if s.created:
        # Some demo rows are written directly, not by the operations that index them.
        rebuild_index()
    db.session.commit()
    if not s.created:
        return "Demo data already present; nothing changed."
    return "Created " + ", ".join(f"{n} {what}" for what, n in s.created.items()) + "."


def _seed_comments(application: Application, users: dict) -> None:
    """Two threads on the application being drafted: one the lead has resolved, on the
    summary, and one open on the budget for the steering group too, mentioning its chair."""
    lead, partner = users["lead@demo.test"], users["partner@demo.test"]
    chair = users["steering1@demo.test"]
    start = utcnow() - timedelta(days=3)
    threads = [
        ("summary", "team", lead, [
            (partner, "Ska vi nämna Uppvidinge och Lessebo i sammanfattningen? Deras bibliotek "
                      "ingår i Kronobergsdelen och har redan anmält intresse.", []),
            (lead, "Bra poäng – jag har lagt till dem i sammanfattningen. Jag markerar tråden "
                   "som löst.", []),
        ]),
        ("budget", "steering", None, [
            (lead, "@Sara Ek Styrgruppen bad om en tydligare fördelning av personalkostnaderna "
                   "mellan länen. Räcker uppdelningen per organisation, eller vill ni se den "
                   "per år också?", [chair]),
            (partner, "Växjös siffror för 2028 kommer senast på fredag.", []),
        ]),
    ]
    for number, (target, audience, resolver, comments) in enumerate(threads):
        at = start + timedelta(days=number)
        thread = CommentThread(application_id=application.id, target=target, audience=audience,
                               status="open", created_by_id=comments[0][0].id, created_at=at)
        db.session.add(thread)
        db.session.flush()
        for index, (author, body, mentioned) in enumerate(comments):
            comment = Comment(thread_id=thread.id, author_id=author.id, body=body,
                              created_at=at + timedelta(hours=2 * index))
            db.session.add(comment)
            db.session.flush()
            for user in mentioned:
                db.session.add(CommentMention(comment_id=comment.id, user_id=user.id))
            audit("comment.thread" if index == 0 else "comment.reply", actor=author,
                  object_type="application", object_id=application.id,
                  after={"thread": thread.id, "target": target, "audience": audience,
                         "comment": body, "id": comment.id})
        if resolver is not None:
            thread.status, thread.resolved_by_id = "resolved", resolver.id
            thread.resolved_at = at + timedelta(hours=2 * len(comments))
            audit("comment.resolve", actor=resolver, object_type="application",
                  object_id=application.id, before={"status": "open"},
                  after={"thread": thread.id, "target": target, "audience": audience,
                         "status": "resolved"})
    db.session.flush()


def _seed_signatories(application: Application, named_by, signatories) -> None:
    """The authorised signatories of the organisations: (organisation, user, title)."""
    from grants.partners.models import Signatory  # noqa: PLC0415
    for organisation, user, title in signatories:
        db.session.add(Signatory(application_id=application.id, organisation_id=organisation.id,
                                 user_id=user.id, name=user.name, email=user.email,
                                 title=title, named_by_id=named_by.id))
    db.session.flush()


def _seed_decision_in_progress(title: str, call: Call, orgs: dict, users: dict) -> None:
    """An application the steering group is voting on: the chair has approved, one member
    works for a partner organisation (Linnéuniversitetet) and is recused (jäv), the third is
    asked to vote."""
    from grants.applications.queries import load_answers  # noqa: PLC0415
    from grants.approvals.models import Vote  # noqa: PLC0415
    from grants.approvals.operations import on_state_entered  # noqa: PLC0415
    from grants.budget.models import BudgetLine, Cofinancing  # noqa: PLC0415
    from grants.partners.confirmation import partner_fingerprint  # noqa: PLC0415
    from grants.partners.models import PartnerConfirmation  # noqa: PLC0415
    workflow = get_workflow(call.workflow_name)
    form = get_form(call.form_name)
    lead = users["lead@demo.test"]
    # Its history: created, then the transitions that take it to the steering group's vote,
    # followed through the workflow file (no state names here).
    history, state = [("create", "", workflow.initial)], workflow.initial
    for name in ("send_to_partners", "send_to_review", "send_to_steering"):
        target = workflow.transitions[name].target
        history.append((name, state, target))
        state = target
    application = Application(
        call_id=call.id, lead_organisation_id=orgs["Kalmar stadsbibliotek"].id,
        lead_user_id=lead.id, title=title, language="sv", workflow_name=workflow.name,
        workflow_version=workflow.version, form_name=form.name, state=state)
    db.session.add(application)
    pin_workflow(workflow)
    application.form_version = pin_form(form)
    db.session.flush()
    for transition, frm, to in history:
        db.session.add(TransitionRecord(application_id=application.id, transition=transition,
                                        from_state=frm, to_state=to, actor_id=lead.id))
    partner_user = users["partner2@demo.test"]
    partner = ApplicationPartner(
        application_id=application.id, organisation_id=orgs["Linnéuniversitetet"].id,
        contact_name=partner_user.name, contact_email=partner_user.email,
        contact_user_id=partner_user.id, status="active")
    db.session.add(partner)
    db.session.flush()
    # Complete, as it must be to reach the steering group (form_complete, budget rules).
    answers = {
        ("summary", None): {
            "short_name": "Läslust ung",
            "summary": "Unga i Blekinge och Kronoberg läser mer när biblioteken, skolorna och "
                       "universitetet arbetar tillsammans med bokcirklar och författarbesök.",
            "start_date": "2027-09-01", "end_date": "2029-06-30"},
        ("background", None): {
            "background": "Andelen unga som läser på fritiden har sjunkit i tio år. I Blekinge "
                          "och Kronoberg saknar **hälften av skolorna** bemannat skolbibliotek."},
        ("cultural_aims", None): {
            "cultural_aims": "Fler unga ska upptäcka läsningen som egen upplevelse, och "
                             "biblioteken ska bli en självklar mötesplats för dem.",
            "priorities": ["literacy", "digital_inclusion"]},
        ("target_groups", None): {"target_groups": [
            {"group": "Unga 13–19 år", "count": 1200},
            {"group": "Skolbibliotekarier och lärare", "count": 60}]},
        ("activities", None): {"activities": [
            {"activity": "Bokcirklar på tolv bibliotek", "start": "2027-09-01",
             "end": "2029-05-31", "responsible": "Kalmar stadsbibliotek"},
            {"activity": "Författarbesök i skolor", "start": "2028-01-15",
             "end": "2028-12-15", "responsible": "Kalmar stadsbibliotek"}]},
        ("partner_part", partner.id): {
            "partner_role": "Linnéuniversitetet följer projektet med följeforskning om ungas "
                            "läsvanor och utvärderar bokcirklarna.",
            "partner_activities": [{"activity": "Enkät och intervjuer", "when": "2028-09-15"}],
            "partner_cofinancing": 60_000},
        ("financing", None): {"requested_amount": 300_000, "has_other_financing": False},
        ("results", None): {
            "expected_results": "1 200 unga deltar i bokcirklar; utlåningen till unga ökar "
                                "med en femtedel på de deltagande biblioteken.",
            "follow_up": "Följeforskning från Linnéuniversitetet och årlig uppföljning i BISS."},
    }
    for (section_key, partner_id), data in answers.items():
        db.session.add(SectionAnswer(
            application_id=application.id, section_key=section_key, data=data,
            partner_id=partner_id, owner_key=str(partner_id or ""),
            updated_by_id=partner_user.id if partner_id else lead.id))
    kalmar, lnu = orgs["Kalmar stadsbibliotek"].id, orgs["Linnéuniversitetet"].id
    db.session.add_all([
        BudgetLine(application_id=application.id, organisation_id=kalmar,
                   category="personnel", year=2027, description="Projektledare 50 %",
                   amount=310_000),
        BudgetLine(application_id=application.id, organisation_id=kalmar,
                   category="external_services", year=2028, description="Författarbesök",
                   amount=90_000),
        BudgetLine(application_id=application.id, organisation_id=lnu,
                   category="personnel", year=2028, description="Följeforskning",
                   amount=60_000),
        Cofinancing(application_id=application.id, organisation_id=kalmar, kind="in_kind",
                    source="public", year=2027, description="Lokaler och personal",
                    amount=100_000),
        Cofinancing(application_id=application.id, organisation_id=lnu, kind="in_kind",
                    source="public", year=2028, description="Forskartid för utvärdering",
                    amount=60_000)])
    db.session.flush()
    # The partner's signatory confirmed exactly this version before the review; the lead
    # organisation's signatory (the lead herself) has signed it too, so that the lead can
    # submit once the steering group approves (`lead_signed`).
    _seed_signatories(application, lead, [(orgs["Kalmar stadsbibliotek"], lead, "Bibliotekschef"),
                                          (orgs["Linnéuniversitetet"], partner_user, "Prefekt")])
    answers_now = load_answers(application.id)
    db.session.add_all([
        PartnerConfirmation(
            partner_id=partner.id, confirmed_by_id=partner_user.id,
            signatory_name=partner_user.name, signatory_title="Prefekt",
            fingerprint=partner_fingerprint(application, form, answers_now, partner)),
        PartnerConfirmation(
            lead_application_id=application.id, confirmed_by_id=lead.id,
            signatory_name=lead.name, signatory_title="Bibliotekschef",
            fingerprint=partner_fingerprint(application, form, answers_now, None))])
    db.session.flush()
    round_ = on_state_entered(application, workflow, form, lead)
    if round_ is not None:
        db.session.add(Vote(round_id=round_.id, user_id=users["steering1@demo.test"].id,
                            choice="approve", comment="Väl förankrat hos skolbiblioteken.",
                            fingerprint=round_.fingerprint))
    schedule_reminders(application, push=False)


# --- a granted project that is reporting -----------------------------------------------------
def _today() -> date:
    return utcnow().astimezone(STOCKHOLM).date()


def _at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=STOCKHOLM)


def _answer(document: Application, key: str, data: dict, user: User,
            partner: ApplicationPartner | None = None) -> None:
    db.session.add(SectionAnswer(application_id=document.id, section_key=key, data=data,
                                 partner_id=partner.id if partner else None,
                                 owner_key=str(partner.id) if partner else "",
                                 updated_by_id=user.id))


def _pdf(document: Application, field_id: str, filename: str, text: str, user: User) -> dict:
    """A small real PDF uploaded to a file field of the document; its stored value."""
    import weasyprint  # noqa: PLC0415 - heavy, and needed only while seeding
    content = weasyprint.HTML(string=f"<h1>{text}</h1><p>Fiktivt underlag för demon.</p>"
                              ).write_pdf()
    attachment = Attachment(application_id=document.id, field_id=field_id, filename=filename,
                            kind="pdf", mime_type="application/pdf", size=len(content),
                            sha256=hashlib.sha256(content).hexdigest(), content=content,
                            uploaded_by_id=user.id)
    db.session.add(attachment)
    db.session.flush()
    return attachment.as_value()


def _costs(document: Application, organisation: Organisation, user: User, rows) -> None:
    """Cost lines: (category, year, description, amount)."""
    for category, year, description, amount in rows:
        db.session.add(BudgetLine(application_id=document.id, organisation_id=organisation.id,
                                  category=category, year=year, description=description,
                                  amount=amount, updated_by_id=user.id))


def _in_kind(document: Application, organisation: Organisation, user: User, year: int,
             description: str, *, amount: int | None = None, hours: int | None = None,
             rate: int | None = None) -> None:
    """Co-financing in kind from public funds: an amount, or work as hours × an hourly rate."""
    db.session.add(Cofinancing(
        application_id=document.id, organisation_id=organisation.id, kind="in_kind",
        source="public", year=year, description=description,
        amount=amount if amount is not None else hours * rate, hours=hours, hourly_rate=rate,
        updated_by_id=user.id))


def _history(document: Application, workflow, steps) -> None:
    """History rows of the transitions a document went through: (transition, actor, when),
    followed through the workflow file; the document ends where the last one leads."""
    state = document.state
    for name, actor, when in steps:
        target = workflow.transitions[name].target
        db.session.add(TransitionRecord(application_id=document.id, transition=name,
                                        from_state=state, to_state=target, actor_id=actor.id,
                                        created_at=when))
        state = target
    document.state = state
    document.state_version += len(steps)
    db.session.flush()


def _sent(document: Application, actor: User, when: datetime) -> Submission:
    """The document's copy of record as it was sent to the funder at `when`: the snapshot of
    the submit effect (`submission_snapshot`), the job that renders its PDF/A (run when the
    worker starts), and the delivery by e-mail that went out then – so nothing is sent
    again."""
    partners = current_partners(document.id)
    snapshot = submission_snapshot(document, form_for(document), load_answers(document.id),
                                   partners, number=1, submitted_at=when, actor=actor)
    submission = Submission(application_id=document.id, number=1, submitted_at=when,
                            submitted_by_id=actor.id, snapshot=snapshot,
                            sha256=fingerprint(snapshot),
                            requested_amount=snapshot["application"].get("requested_amount"))
    db.session.add(submission)
    db.session.flush()
    job = Job(kind="render_submission", application_id=document.id, requested_by_id=actor.id,
              payload={"kind": "final", "submission_id": submission.id},
              fingerprint=submission.sha256)
    db.session.add(job)
    db.session.flush()
    enqueue_job(job)
    sent_at = when + timedelta(minutes=2)
    delivery = Delivery(submission_id=submission.id, application_id=document.id,
                        channel="email", status="sent", recipient=submission_address(document),
                        subject=email_subject(submission, document), attempts=1,
                        last_attempt_at=sent_at, sent_at=sent_at, smtp_code=250,
                        smtp_response="250 OK: queued", created_at=when)
    db.session.add(delivery)
    db.session.flush()
    db.session.add(DeliveryAttempt(delivery_id=delivery.id, number=1, started_at=sent_at,
                                   finished_at=sent_at, outcome="sent", stage="message",
                                   smtp_code=250, smtp_response="250 OK: queued"))
    db.session.flush()
    return submission


def _answered(document: Application, actor: User, when: datetime, outcome: str,
              **fields) -> FunderDecision:
    """The funder's answer recorded through the decision operation (it moves the document
    and commits), dated as if recorded when it came."""
    db.session.flush()
    decision = record_decision(application=document, roles={"lead"}, actor=actor,
                               workflow=workflow_for(document), form=form_for(document),
                               outcome=outcome, decision_date=min(when.date(), _today()),
                               expected_state_version=document.state_version, **fields)
    decision.recorded_at = when
    record = db.session.scalar(select(TransitionRecord).where(
        TransitionRecord.application_id == document.id)
        .order_by(TransitionRecord.id.desc()).limit(1))
    record.created_at = when
    return decision


def _months_in(year: int, start: date, end: date) -> int:
    return sum(1 for n in range(48) if add_months(start, n) <= end
               and add_months(start, n).year == year)


def _seed_granted_project(call: Call, orgs: dict, users: dict) -> None:
    """An ESF project granted about eight months ago, with two partners (Växjö: partner@,
    Linnéuniversitetet: partner2@). The application was sent and the grant is recorded with
    the decision operation, which starts the project: a progress report and a payment claim
    per six months and a final report. The first period's report and claim are sent and
    accepted (the claim paid); in the current period the progress report is under way – the
    lead and Växjö have entered their actual figures, Linnéuniversitetet not yet – and the
    payment claim is a draft with the lead's costs."""
    lead, vaxjo_user, lnu_user = (users["lead@demo.test"], users["partner@demo.test"],
                                  users["partner2@demo.test"])
    chair = users["steering1@demo.test"]
    kalmar, vaxjo, lnu = (orgs["Kalmar stadsbibliotek"], orgs["Växjö stadsbibliotek"],
                          orgs["Linnéuniversitetet"])
    start = add_months(_today().replace(day=1), -8)
    end = add_months(start, 24) - timedelta(days=1)
    granted_on = start - timedelta(days=20)
    sent_on = start - timedelta(days=75)
    years = list(range(start.year, end.year + 1))

    workflow, form = get_workflow(call.workflow_name), get_form(call.form_name)
    application = Application(
        call_id=call.id, lead_organisation_id=kalmar.id, lead_user_id=lead.id,
        title=ESF_PROJECT, language="sv", workflow_name=workflow.name,
        workflow_version=workflow.version, form_name=form.name, state=workflow.initial,
        created_at=_at(sent_on - timedelta(days=70)))
    db.session.add(application)
    pin_workflow(workflow)
    application.form_version = pin_form(form)
    db.session.flush()
    db.session.add(TransitionRecord(application_id=application.id, transition="create",
                                    from_state="", to_state=workflow.initial, actor_id=lead.id,
                                    created_at=application.created_at))
    partners = {}
    for organisation, user in ((vaxjo, vaxjo_user), (lnu, lnu_user)):
        partners[organisation.id] = ApplicationPartner(
            application_id=application.id, organisation_id=organisation.id,
            contact_name=user.name, contact_email=user.email, contact_user_id=user.id,
            status="active")
        db.session.add(partners[organisation.id])
    db.session.flush()
    _seed_signatories(application, lead, [(kalmar, lead, "Bibliotekschef"),
                                          (vaxjo, vaxjo_user, "Bibliotekschef"),
                                          (lnu, lnu_user, "Prefekt")])

    # The budget the reports are compared with: two years, spread over the project's years.
    def spread(total: int) -> list[tuple[int, int]]:
        return [(year, int(round(total * _months_in(year, start, end) / 24, -3))) for year in years
                if _months_in(year, start, end)]
    middle = add_months(start, 12).year
    _costs(application, kalmar, lead,
           [("personnel", y, "Projektledare 50 %", a) for y, a in spread(560_000)]
           + [("external_services", middle, "Utbildare i digital vägledning", 150_000)]
           + [("travel", y, "Resor till länets bibliotek", a) for y, a in spread(60_000)])
    _costs(application, vaxjo, vaxjo_user,
           [("personnel", y, "Bibliotekarie och kursledare 40 %", a)
            for y, a in spread(350_000)])
    _costs(application, lnu, lnu_user,
           [("personnel", y, "Utvärdering och följeforskning", a) for y, a in spread(220_000)])
    _in_kind(application, kalmar, lead, start.year, "Lokaler och it-stöd", amount=120_000)
    _in_kind(application, vaxjo, vaxjo_user, start.year,
             "Personaltid för deltagande bibliotekarier", hours=400, rate=450)
    _in_kind(application, lnu, lnu_user, end.year, "Forskartid för utvärderingen",
             amount=40_000)
    db.session.flush()
    lines, items = (db.session.scalars(select(model).where(model.application_id ==
                                                           application.id)).all()
                    for model in (BudgetLine, Cofinancing))
    requested = sum(line.amount for line in lines) - sum(item.amount for item in items)

    certificates = _pdf(application, "cofinancing_certificates", "medfinansieringsintyg.pdf",
                        "Medfinansieringsintyg: Kalmar, Växjö och Linnéuniversitetet", lead)
    answers = {
        "summary": {
            "summary": "Bibliotekspersonal i Kalmar, Kronobergs och Blekinge län utbildas till "
                       "digitala vägledare, så att biblioteken kan hjälpa invånare som står "
                       "utanför den digitala välfärden.",
            "start_date": start.isoformat(), "end_date": end.isoformat(), "area": "skills"},
        "target_groups": {
            "target_group_description": "Bibliotekarier och biblioteksassistenter på "
                                        "folkbiblioteken i sydost, **särskilt** de som möter "
                                        "äldre och nyanlända i sitt arbete.",
            "participants": [{"group": "Bibliotekspersonal", "women": 96, "men": 24},
                             {"group": "Skolbibliotekarier", "women": 18, "men": 6}]},
        "horizontal_principles": {
            "gender_equality": "Kurserna ges på tider som passar deltid, och vi följer upp "
                               "deltagandet för kvinnor och män.",
            "accessibility": "Allt kursmaterial finns i tillgängligt format och kurslokalerna "
                             "är tillgängliga.",
            "non_discrimination": "Vägledarna utbildas i att möta invånare med olika språk "
                                  "och bakgrund."},
        "activities": {"activities": [
            {"activity": "Grundkurs i digital vägledning", "start": start.isoformat(),
             "end": add_months(start, 12).isoformat(), "participants": 120},
            {"activity": "Fördjupning och nätverksträffar", "start":
             add_months(start, 12).isoformat(), "end": end.isoformat(), "participants": 60}]},
        "financing": {
            "requested_amount": requested,
            "cofinancing": [
                {"financier": "Kalmar kommun", "kind": "in_kind", "amount": 120_000},
                {"financier": "Växjö kommun", "kind": "in_kind", "amount": 180_000},
                {"financier": "Linnéuniversitetet", "kind": "in_kind", "amount": 40_000}],
            "cofinancing_certificates": certificates},
    }
    for key, data in answers.items():
        _answer(application, key, data, lead)
    db.session.flush()
    sent = _at(sent_on)
    _history(application, workflow, [
        ("send_concept", lead, sent - timedelta(days=60)),
        ("go_ahead", chair, sent - timedelta(days=45)),
        ("send_to_steering", lead, sent - timedelta(days=20)),
        ("approve", chair, sent - timedelta(days=10)),
        ("submit", lead, sent)])
    submission = _sent(application, lead, sent)

    # The grant: the decision operation starts the project and makes its documents.
    granted = _at(granted_on, 14)
    _answered(application, lead, granted, "granted", granted_amount=submission.requested_amount,
              project_start=start, project_end=end,
              funder_reference=f"ESF {granted_on.year}/00417",
              conditions="Lägesrapport och ansökan om utbetalning varje halvår. Deltagarnas "
                         "kön redovisas i varje lägesrapport.")
    documents = db.session.scalars(select(Application).where(
        Application.parent_id == application.id).order_by(Application.id)).all()
    for document in documents:
        document.created_at = granted
        db.session.scalar(select(TransitionRecord).where(
            TransitionRecord.application_id == document.id)
            .order_by(TransitionRecord.id).limit(1)).created_at = granted
    by_kind = {(d.kind, d.sequence): d for d in documents}
    report1, report2 = by_kind[("progress_report", 1)], by_kind[("progress_report", 2)]
    claim1, claim2 = by_kind[("payment_claim", 1)], by_kind[("payment_claim", 2)]

    # The first period: its progress report and payment claim, sent and accepted.
    for document in (report1, claim1):
        year = document.period_start.year
        _costs(document, kalmar, lead, [
            ("personnel", year, "Projektledare 50 %, utfall", 138_000),
            ("travel", year, "Resor till länets bibliotek, utfall", 11_500)])
        _costs(document, vaxjo, vaxjo_user, [
            ("personnel", year, "Bibliotekarie och kursledare, utfall", 84_000)])
        _costs(document, lnu, lnu_user, [
            ("personnel", year, "Planering av följeforskningen", 22_000)])
        _in_kind(document, kalmar, lead, year, "Lokaler och it-stöd", amount=30_000)
        _in_kind(document, vaxjo, vaxjo_user, year, "Personaltid för deltagande "
                 "bibliotekarier", hours=100, rate=450)
        _in_kind(document, lnu, lnu_user, year, "Forskartid", amount=8_000)
    period = {"period_start": report1.period_start.isoformat(),
              "period_end": report1.period_end.isoformat()}
    _answer(report1, "period", {
        **period,
        "period_summary": "Grundkursen har startat på åtta bibliotek. Intresset är stort och "
                          "två kurstillfällen fick dubbleras.",
        "period_activities": [
            {"activity": "Grundkurs i digital vägledning", "progress": "ongoing",
             "participants": 58}]}, lead)
    _answer(report1, "participants", {"participants_so_far": [
        {"group": "Bibliotekspersonal", "women": 46, "men": 12}]}, lead)
    _answer(report1, "horizontal_principles", {
        "gender_equality_progress": "Fyra av fem deltagare är kvinnor, som i personalgruppen.",
        "accessibility_progress": "Kursmaterialet finns som lättläst text och inläst ljud.",
        "non_discrimination_progress": "Ett pass om att möta invånare med olika språk har "
                                       "lagts till."}, lead)
    _answer(report1, "deviations", {"deviations": "Inga", "risks": "Vikarier behövs för att "
                                    "personalen ska kunna gå kursen; kommunerna har lovat "
                                    "det.", "change_needed": False}, lead)
    _answer(claim1, "claim", {
        "claim_period_start": claim1.period_start.isoformat(),
        "claim_period_end": claim1.period_end.isoformat(), "costs_certified": True}, lead)
    _answer(claim1, "cofinancing", {
        "cofinancing_explanation": "Medfinansieringen är personaltid och lokaler, annat än "
                                   "pengar, enligt beslutet."}, lead)
    for document in (report1, claim1):
        for partner in current_partners(document.id):
            user = vaxjo_user if partner.organisation_id == vaxjo.id else lnu_user
            name = partner.organisation.name
            if document is report1:
                _answer(report1, "partner_part", {
                    "partner_period": f"{name} har deltagit i planeringen och kursstarten."},
                    user, partner)
            else:
                _answer(claim1, "partner_part", {
                    "evidence": _pdf(claim1, "evidence", "verifikationer.pdf",
                                     f"Verifikationer och tidrapporter: {name}", user),
                    "costs_booked": True}, user, partner)
    db.session.flush()
    for document, sent_days, answered_days, paid in ((report1, 26, 40, None),
                                                     (claim1, 40, 55, True)):
        when = _at(document.period_end + timedelta(days=sent_days))
        _history(document, workflow_for(document), [
            ("send_to_partners", lead, when - timedelta(days=12)),
            ("send_to_steering", lead, when - timedelta(days=7)),
            ("approve", chair, when - timedelta(days=2)),
            ("submit", lead, when)])
        sent_claim = _sent(document, lead, when)
        answered = _at(min(document.period_end + timedelta(days=answered_days), _today()), 11)
        _answered(document, lead, answered, "accepted",
                  funder_reference=f"ESF {granted_on.year}/00417",
                  paid_amount=sent_claim.requested_amount if paid else None)

    # The current period: the progress report under way – the lead and Växjö have entered
    # their figures (Växjö's work given in kind as hours × rate), Linnéuniversitetet not yet.
    first, last = report2.period_start.year, report2.period_end.year
    _costs(report2, kalmar, lead, [
        ("personnel", first, "Projektledare 50 %, utfall", 140_000),
        ("external_services", last, "Utbildare i digital vägledning, två kurstillfällen",
         48_000)])
    _in_kind(report2, kalmar, lead, first, "Lokaler och it-stöd", amount=30_000)
    _costs(report2, vaxjo, vaxjo_user, [
        ("personnel", first, "Bibliotekarie och kursledare, utfall", 86_000)])
    _in_kind(report2, vaxjo, vaxjo_user, first, "Personaltid för deltagande bibliotekarier",
             hours=120, rate=450)
    _answer(report2, "period", {
        "period_start": report2.period_start.isoformat(),
        "period_end": report2.period_end.isoformat(),
        "period_summary": "Grundkursen pågår på tolv bibliotek; de första vägledarna har "
                          "börjat ta emot besökare."}, lead)
    vaxjo_part = next(p for p in current_partners(report2.id) if p.organisation_id == vaxjo.id)
    _answer(report2, "partner_part", {
        "partner_period": "Växjö stadsbibliotek har hållit fyra kurstillfällen och öppnat en "
                          "drop-in för digital hjälp."}, vaxjo_user, vaxjo_part)
    # … and its payment claim, a draft with the lead's costs so far.
    _costs(claim2, kalmar, lead, [
        ("personnel", first, "Projektledare 50 %, utfall", 140_000)])
    _answer(claim2, "claim", {"claim_period_start": claim2.period_start.isoformat(),
                              "claim_period_end": claim2.period_end.isoformat()}, lead)
    db.session.flush()
    for document in documents:
        schedule_reminders(document, push=False)


def _seed_linked_application(call: Call, orgs: dict, users: dict) -> None:
    """The ESF project's applications at the region, started as a draft and linked with it in
    one project group: each overview shows the other under "Also applied to" (the ESF one
    with its grant)."""
    lead = users["lead@demo.test"]
    workflow, form = get_workflow(call.workflow_name), get_form(call.form_name)
    application = Application(
        call_id=call.id, lead_organisation_id=orgs["Kalmar stadsbibliotek"].id,
        lead_user_id=lead.id, title=REGION_PROJECT, language="sv", workflow_name=workflow.name,
        workflow_version=workflow.version, form_name=form.name, state=workflow.initial)
    db.session.add(application)
    pin_workflow(workflow)
    application.form_version = pin_form(form)
    db.session.flush()
    db.session.add(TransitionRecord(application_id=application.id, transition="create",
                                    from_state="", to_state=workflow.initial, actor_id=lead.id))
    db.session.add(SectionAnswer(
        application_id=application.id, section_key="project", updated_by_id=lead.id,
        data={"summary": "Digitala vägledare på biblioteken i Kalmar, Nybro och Västervik, "
                         "som ett komplement till ESF-projektet i hela sydost.",
              "municipalities": ["kalmar", "nybro", "vastervik"], "first_application": True}))
    esf = db.session.scalar(select(Application).where(Application.title == ESF_PROJECT,
                                                      Application.parent_id.is_(None)))
    if esf is not None:
        link = db.session.get(ApplicationLink, esf.id)
        if link is None:
            group = ProjectGroup()
            db.session.add(group)
            db.session.flush()
            db.session.add(ApplicationLink(application_id=esf.id, group_id=group.id,
                                           linked_by_id=lead.id))
            group_id = group.id
        else:
            group_id = link.group_id
        db.session.add(ApplicationLink(application_id=application.id, group_id=group_id,
                                       linked_by_id=lead.id))
    db.session.flush()
    schedule_reminders(application, push=False)

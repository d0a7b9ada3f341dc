"""Demo data: real counties, municipalities and funders of south-east Sweden (from
demo_data/sydost.yaml) with fictional organisation numbers, demo accounts and open calls.
Running it twice changes nothing the second time."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from grants.accounts.models import User
from grants.accounts.operations import create_user
from grants.applications.models import Application, SectionAnswer, TransitionRecord
from grants.calls.models import STOCKHOLM, Call, Funder
from grants.db import db, utcnow
from grants.deadlines.operations import schedule_reminders
from grants.organisations.models import Organisation, OrganisationKind
from grants.organisations.orgnr import make_fictional
from grants.partners.models import ApplicationPartner
from grants.processes import get_form, get_workflow, pin_form, pin_workflow
from grants.steering.models import SteeringGroup, SteeringMember

DEMO_DATA = Path(__file__).parent / "demo_data" / "sydost.yaml"
DEMO_PASSWORD = "demo-password"
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
         "kulturradet_utveckling"),
        ("ESF-rådet", "Kompetensutveckling för digital delaktighet",
         "Gemensam kompetensutveckling för bibliotekspersonal i sydost.", 100, 6000, 8_000_000,
         "two_stage", "esf_kompetens"),
        ("Region Kalmar län", "Regionalt utvecklingsbidrag, bibliotek",
         "Mindre bidrag för samverkan mellan kommunerna i länet.", 45, 2500, 300_000,
         "single_stage", "region_smabidrag"),
    ]
    calls = {}
    for (funder_short, title, description, days, max_chars, max_amount, workflow_name,
         form_name) in calls_spec:
        call = db.session.scalar(select(Call).where(Call.title == title))
        if call is None:
            call = Call(funder_id=funders[funder_short].id, title=title, description=description,
                        opens_at=utcnow() - timedelta(days=14), deadline_at=_deadline_in(days),
                        workflow_name=workflow_name, form_name=form_name,
                        form_version=get_form(form_name).version,
                        max_chars_per_field=max_chars, max_requested_amount=max_amount,
                        steering_group_id=group.id)
            db.session.add(call)
            s.count("calls")
        calls[title] = call
    db.session.flush()

    title = "Digital delaktighet i sydost – bibliotek som navet"
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
    title = "Läsfrämjande för unga i Blekinge och Kronoberg"
    if db.session.scalar(select(Application).where(Application.title == title)) is None:
        _seed_decision_in_progress(title, calls["Utvecklingsbidrag för bibliotek 2027"], orgs,
                                   users)
        s.count("applications")
    db.session.commit()
    if not s.created:
        return "Demo data already present; nothing changed."
    return "Created " + ", ".join(f"{n} {what}" for what, n in s.created.items()) + "."


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

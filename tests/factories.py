"""Factories for test data (real rows, real commits)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache

from werkzeug.security import generate_password_hash

from grants.accounts.models import User
from grants.applications.models import Application, SectionAnswer, TransitionRecord
from grants.applications.queries import load_answers
from grants.approvals.operations import on_state_entered
from grants.approvals.rounds import open_round
from grants.calls.models import Call, Funder
from grants.db import db, utcnow
from grants.organisations.models import Organisation, OrganisationKind
from grants.organisations.orgnr import make_fictional
from grants.partners.confirmation import confirm, partner_fingerprint
from grants.partners.models import ApplicationPartner, Signatory
from grants.partners.signatories import signatory_of
from grants.processes import get_form, get_workflow, pin_form, pin_workflow, workflow_for
from grants.steering.models import SteeringGroup, SteeringMember

PASSWORD = "demo-password"


def shipped_version(name: str) -> int:
    """The version a shipped workflow file declares (tests follow the file, not a number)."""
    import re  # noqa: PLC0415

    from grants.config import PROJECT_ROOT  # noqa: PLC0415
    text = (PROJECT_ROOT / "workflows" / f"{name}.yaml").read_text(encoding="utf-8")
    return int(re.search(r"^version: (\d+)$", text, re.M).group(1))


JOINT_VERSION = shipped_version("joint_application")

FULL_ANSWERS = {
    "summary": {"summary": "Sammanfattning: läsfrämjande för äldre i Växjö och Älmhult."},
    "background": {"background": "Bakgrund: många saknar digital kompetens."},
    "aims": {"aims": "Mål: 500 deltagare, 25 kommuner, 3 län."},
    "target_groups": {"target_groups": "Äldre, nyanlända och unga."},
    "activities": {"activities": "Workshoppar på biblioteken.\n\nUtbildning för personal."},
    "time_plan": {"time_plan": "Hösten 2027 – våren 2029."},
    "expected_results": {"expected_results": "Ökad digital delaktighet."},
    "funding": {"requested_amount": 450000},
}


@lru_cache(maxsize=1)
def password_hash() -> str:
    # Real scrypt, computed once per session to keep the suite fast.
    return generate_password_hash(PASSWORD, method="scrypt")


@dataclass
class World:
    orgs: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    call: Call | None = None
    group: SteeringGroup | None = None

    def user(self, key: str) -> User:
        return db.session.get(User, self.users[key].id)

    def new_application(self, *, state: str | None = None, answers: dict | None = None,
                        lead: str = "lead", title: str = "Läslyftet i sydost – åäö",
                        workflow: str = "joint_application", form: str = "standard"
                        ) -> Application:
        definition = get_workflow(workflow)
        app = Application(call_id=self.call.id, lead_organisation_id=self.orgs["kalmar"].id,
                          lead_user_id=self.users[lead].id, title=title, language="sv",
                          workflow_name=workflow, workflow_version=definition.version,
                          form_name=form, state=state or definition.initial)
        db.session.add(app)
        pin_workflow(definition)
        app.form_version = pin_form(get_form(form))
        db.session.flush()
        db.session.add(TransitionRecord(application_id=app.id, transition="create", from_state="",
                                        to_state=definition.initial, actor_id=self.users[lead].id))
        for key, values in (answers or {}).items():
            db.session.add(SectionAnswer(application_id=app.id, section_key=key, data=values,
                                         updated_by_id=self.users[lead].id))
        db.session.flush()
        # Created straight into a state the steering group decides: its round opens, as it
        # would have when the application got there.
        on_state_entered(app, definition, get_form(form), self.users[lead])
        db.session.commit()
        return app


def vote(browser, application, choice: str, comment: str = "", *, fingerprint: str | None = None):
    """Vote as a member would: on the round and the version the page shows."""
    db.session.expire_all()
    round_ = open_round(application.id)
    assert round_ is not None, "no open round"
    return browser.post(f"/applications/{application.id}/vote",
                        {"round_id": str(round_.id), "choice": choice, "comment": comment,
                         "fingerprint": fingerprint or round_.fingerprint},
                        follow_redirects=True)


def make_user(email: str, name: str, org: Organisation, *, coordinator: bool = False) -> User:
    user = User(email=email, name=name, password_hash=password_hash(),
                is_coordinator=coordinator)
    user.organisations.append(org)
    db.session.add(user)
    return user


def build_world() -> World:
    w = World()
    for index, (key, name, county, kind) in enumerate([
        ("kalmar", "Kalmar stadsbibliotek", "Kalmar län", OrganisationKind.public_library),
        ("vaxjo", "Växjö stadsbibliotek", "Kronobergs län", OrganisationKind.public_library),
        ("sydost", "Länsbibliotek Sydost", "Kronobergs län", OrganisationKind.regional_library),
        ("lnu", "Linnéuniversitetet", "Kronobergs län", OrganisationKind.university),
    ]):
        w.orgs[key] = Organisation(name=name, county=county, kind=kind,
                                   org_number=make_fictional(500 + index), is_fictional=True)
        db.session.add(w.orgs[key])
    db.session.flush()
    for key, email, name, org, coordinator in [
        ("lead", "lead@demo.test", "Lena Lindqvist", "kalmar", False),
        ("other_lead", "other@demo.test", "Olle Öberg", "vaxjo", False),
        ("steering1", "steering1@demo.test", "Sara Ek", "sydost", False),
        ("steering2", "steering2@demo.test", "Omar Haddad", "lnu", False),
        ("coordinator", "coordinator@demo.test", "Cecilia Holm", "sydost", True),
    ]:
        w.users[key] = make_user(email, name, w.orgs[org], coordinator=coordinator)
    funder = Funder(name="Statens kulturråd", short_name="Kulturrådet", slug="kulturradet",
                    submission_email="registrator@kulturradet.example")
    w.group = SteeringGroup(name="BISS – Bibliotek i samverkan i sydost")
    db.session.add_all([funder, w.group])
    db.session.flush()
    for key in ("steering1", "steering2"):
        db.session.add(SteeringMember(group_id=w.group.id, user_id=w.users[key].id))
    w.call = Call(funder_id=funder.id, title="Utvecklingsbidrag för bibliotek 2027",
                  opens_at=utcnow() - timedelta(days=10), deadline_at=utcnow() + timedelta(days=30),
                  workflow_name="joint_application", form_name="standard",
                  max_chars_per_field=300, max_requested_amount=2_000_000,
                  steering_group_id=w.group.id)
    db.session.add(w.call)
    db.session.commit()
    return w


def name_signatory(application: Application, organisation_id: int, user: User,
                   title: str = "Bibliotekschef") -> Signatory:
    """Name `user` the authorised signatory of the organisation on the application (named by
    the project lead); the caller commits."""
    signatory = Signatory(application_id=application.id, organisation_id=organisation_id,
                          user_id=user.id, name=user.name, email=user.email, title=title,
                          named_by_id=application.lead_user_id)
    db.session.add(signatory)
    return signatory


def add_partner(world: World, application: Application, org_key: str = "vaxjo",
                contact_key: str = "other_lead", *, signatory: bool = False
                ) -> ApplicationPartner:
    """An organisation taking part (invitation accepted), its contact one of the world's
    users; with `signatory`, the contact is also the organisation's authorised signatory."""
    contact = world.user(contact_key)
    partner = ApplicationPartner(application_id=application.id,
                                 organisation_id=world.orgs[org_key].id,
                                 contact_name=contact.name, contact_email=contact.email,
                                 contact_user_id=contact.id, status="active")
    db.session.add(partner)
    if signatory:
        name_signatory(application, world.orgs[org_key].id, contact)
    db.session.commit()
    return partner


def lead_signs(application: Application, title: str = "Bibliotekschef") -> None:
    """The lead organisation's authorised signatory (the project lead) signs the current
    version, as the `lead_signed` guard of the submit transition requires."""
    application = db.session.get(Application, application.id)
    lead = db.session.get(User, application.lead_user_id)
    if signatory_of(application.id, application.lead_organisation_id) is None:
        name_signatory(application, application.lead_organisation_id, lead, title)
        db.session.commit()
    form, answers = get_form(application.form_name), load_answers(application.id)
    confirm(actor=lead, application=application, roles={"lead"},
            workflow=workflow_for(application), form=form, answers=answers, partner=None,
            shown_fingerprint=partner_fingerprint(application, form, answers, None))


def lead_must_sign(application: Application, transition: str) -> bool:
    """Whether firing `transition` now needs the lead organisation's signature first."""
    workflow = workflow_for(application)
    found = workflow.transitions.get(transition) if workflow is not None else None
    return found is not None and "lead_signed" in found.requires and \
        application.state in found.sources

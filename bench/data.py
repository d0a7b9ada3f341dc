"""The data the measurements run on.

`realistic_application`: what the issue calls a realistic application – a lead and 5 partner
organisations, every section filled in (each partner its own part), 60 budget rows, co-financing
from every organisation and 3 attachments; its PDF has 12 pages. It follows the shipped
Kulturrådet form, with one more (optional) attachment field, so that three files are attached:
`bench_workflows` writes that form next to copies of the shipped workflows.

`small_application`: a two-page application on the standard form (the memory measurement
renders it hundreds of times)."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from grants.config import PROJECT_ROOT

BENCH_FORM = "bench_kulturrad"
PASSWORD = "bench-password"
PARTNERS = 5
BUDGET_ROWS = 60
ATTACHMENTS = 3

_WORDS = ("biblioteket läsfrämjande digital delaktighet kommunerna länet samverkan "
          "utbildning personal målgruppen äldre nyanlända unga workshoppar bokcirklar "
          "uppsökande verksamhet fjärrlån e-medier informationskompetens källkritik "
          "programverksamhet utvärdering uppföljning resultat erfarenheter spridning "
          "regionbiblioteket folkbiblioteken skolbiblioteken studieförbunden föreningar").split()


def text(seed: int, words: int) -> str:
    """Deterministic Swedish-looking prose, `words` words long, in sentences."""
    out, sentence = [], []
    for i in range(words):
        word = _WORDS[(seed * 7 + i * 13 + i // 5) % len(_WORDS)]
        sentence.append(word.capitalize() if not sentence else word)
        if len(sentence) >= 9 + (seed + i) % 7:
            out.append(" ".join(sentence) + ".")
            sentence = []
    if sentence:
        out.append(" ".join(sentence) + ".")
    return " ".join(out)


def paragraphs(seed: int, count: int, words: int) -> str:
    return "\n\n".join(text(seed + n, words) for n in range(count))


def markdown(seed: int, count: int, words: int) -> str:
    """Rich text as users write it (Markdown): paragraphs and a short list."""
    items = "\n".join(f"- {text(seed + 50 + n, 6)}" for n in range(3))
    return paragraphs(seed, count, words) + "\n\n" + items


def bench_workflows(tmp: Path) -> Path:
    """Copies of the shipped workflows and forms, plus the benchmark's form (the Kulturrådet
    form with a third attachment field)."""
    target = tmp / "workflows"
    shutil.copytree(PROJECT_ROOT / "workflows", target)
    form = yaml.safe_load((target / "forms" / "kulturradet_utveckling.yaml")
                          .read_text(encoding="utf-8"))
    for section in form["sections"]:
        if section["key"] == "attachments":
            section["fields"].append({
                "id": "budget_sheet", "type": "file", "accept": ["pdf", "xlsx", "odt"],
                "label": {"sv": "Budgetkalkyl (valfritt)", "en": "Budget sheet (optional)"}})
    (target / "forms" / f"{BENCH_FORM}.yaml").write_text(
        yaml.safe_dump(form, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return target


def standard_answers(seed: int) -> dict[str, dict]:
    """Every section of the standard form filled in (a two-page PDF)."""
    return {
        "summary": {"summary": text(seed, 60)}, "background": {"background": text(seed + 1, 60)},
        "aims": {"aims": text(seed + 2, 40)},
        "target_groups": {"target_groups": text(seed + 3, 30)},
        "activities": {"activities": text(seed + 4, 60)},
        "time_plan": {"time_plan": text(seed + 5, 30)},
        "expected_results": {"expected_results": text(seed + 6, 40)},
        "funding": {"requested_amount": 250_000},
    }


@dataclass
class Seeded:
    application_id: int
    lead_email: str
    lead_user_id: int
    small_application_id: int


def _fake_pdf(seed: int, size: int) -> bytes:
    body = (f"%PDF-1.4\n% bench attachment {seed}\n".encode()
            + hashlib.sha256(str(seed).encode()).hexdigest().encode() * (size // 64))
    return body[:size]


def seed(app) -> Seeded:
    """Everything both applications need; returns their ids and the lead's login."""
    from grants.accounts.models import User  # noqa: PLC0415
    from grants.applications.models import Application, SectionAnswer, TransitionRecord  # noqa: PLC0415
    from grants.budget.models import (  # noqa: PLC0415
        BudgetLine,
        Cofinancing,
        CofinancingKind,
        CofinancingSource,
        CostCategory,
    )
    from grants.calls.models import Call, Funder  # noqa: PLC0415
    from grants.db import db, utcnow  # noqa: PLC0415
    from grants.documents.models import Attachment  # noqa: PLC0415
    from grants.organisations.models import Organisation, OrganisationKind  # noqa: PLC0415
    from grants.organisations.orgnr import make_fictional  # noqa: PLC0415
    from grants.partners.models import ApplicationPartner  # noqa: PLC0415
    from grants.processes import get_form, get_workflow, pin_form, pin_workflow  # noqa: PLC0415

    with app.app_context():
        password_hash = generate_password_hash(PASSWORD, method="scrypt")
        counties = ["Kalmar län", "Kronobergs län", "Blekinge län"]
        orgs = []
        for i, name in enumerate(["Kalmar stadsbibliotek", "Växjö stadsbibliotek",
                                  "Karlskrona stadsbibliotek", "Länsbibliotek Sydost",
                                  "Nybro folkbibliotek", "Ljungby folkbibliotek"]):
            org = Organisation(name=name, county=counties[i % 3],
                               kind=OrganisationKind.public_library,
                               org_number=make_fictional(9100 + i), is_fictional=True)
            orgs.append(org)
        db.session.add_all(orgs)
        db.session.flush()
        users = []
        for i, org in enumerate(orgs):
            user = User(email=f"bench{i}@bench.test", name=f"Användare {i} Ödman",
                        password_hash=password_hash)
            user.organisations.append(org)
            users.append(user)
        db.session.add_all(users)
        funder = Funder(name="Statens kulturråd", short_name="Kulturrådet", slug="kulturradet",
                        submission_email="registrator@kulturradet.example")
        db.session.add(funder)
        db.session.flush()
        now = utcnow()
        call = Call(funder_id=funder.id, title="Utvecklingsbidrag för bibliotek 2027",
                    opens_at=now - timedelta(days=10), deadline_at=now + timedelta(days=40),
                    workflow_name="joint_application", form_name=BENCH_FORM,
                    max_requested_amount=5_000_000)
        standard_call = Call(funder_id=funder.id, title="Läsfrämjande insatser 2027",
                             opens_at=now - timedelta(days=10),
                             deadline_at=now + timedelta(days=40),
                             workflow_name="joint_application", form_name="standard")
        db.session.add_all([call, standard_call])
        db.session.flush()
        workflow = get_workflow("joint_application")
        pin_workflow(workflow)
        lead = users[0]

        def new_application(call_, title, form_name):
            application = Application(
                call_id=call_.id, lead_organisation_id=orgs[0].id, lead_user_id=lead.id,
                title=title, language="sv", workflow_name=workflow.name,
                workflow_version=workflow.version, form_name=form_name,
                form_version=pin_form(get_form(form_name)), state=workflow.initial)
            db.session.add(application)
            db.session.flush()
            db.session.add(TransitionRecord(application_id=application.id, transition="create",
                                            from_state="", to_state=workflow.initial,
                                            actor_id=lead.id))
            return application

        application = new_application(call, "Läslyftet i sydost – digital delaktighet för "
                                      "alla åldrar", BENCH_FORM)
        partners = []
        for i, org in enumerate(orgs[1:1 + PARTNERS], start=1):
            partner = ApplicationPartner(application_id=application.id,
                                         organisation_id=org.id,
                                         contact_name=users[i].name,
                                         contact_email=users[i].email,
                                         contact_user_id=users[i].id, status="active")
            partners.append(partner)
        db.session.add_all(partners)
        db.session.flush()

        attachment_values = {}
        for i, field_id in enumerate(["letter_of_intent", "project_plan", "budget_sheet"]):
            content = _fake_pdf(i, 150_000 + 40_000 * i)
            stored = Attachment(application_id=application.id, field_id=field_id,
                                filename=f"bilaga-{i + 1}-{field_id}.pdf", kind="pdf",
                                mime_type="application/pdf", size=len(content),
                                sha256=hashlib.sha256(content).hexdigest(), content=content,
                                uploaded_by_id=lead.id)
            db.session.add(stored)
            db.session.flush()
            attachment_values[field_id] = stored.as_value()

        answers = {
            "summary": {"short_name": "Läslyftet", "summary": paragraphs(1, 1, 90),
                        "start_date": "2027-08-01", "end_date": "2029-06-30"},
            "background": {"background": markdown(10, 1, 100)},
            "cultural_aims": {"cultural_aims": markdown(20, 1, 50),
                              "priorities": ["digital_inclusion", "training", "literacy"]},
            "target_groups": {"target_groups": [
                {"group": text(30 + i, 8)[:120], "count": 40 * (i + 1)} for i in range(4)]},
            "activities": {"activities": [
                {"activity": text(40 + i, 10)[:200], "start": f"2027-{8 + i % 5:02d}-01",
                 "end": f"2028-{1 + i % 12:02d}-28", "responsible": users[i % 6].name}
                for i in range(4)]},
            "financing": {"requested_amount": 1_850_000, "has_other_financing": True,
                          "other_financing": [
                              {"financier": f"Region {c.split()[0]}", "amount": 120_000 + 5000 * i,
                               "status": ["applied", "granted", "own"][i % 3]}
                              for i, c in enumerate(counties * 2)]},
            "results": {"expected_results": markdown(60, 1, 50),
                        "follow_up": paragraphs(70, 1, 30)},
            "attachments": attachment_values,
        }
        for key, values in answers.items():
            db.session.add(SectionAnswer(application_id=application.id, section_key=key,
                                         data=values, updated_by_id=lead.id))
        for i, partner in enumerate(partners):
            db.session.add(SectionAnswer(
                application_id=application.id, section_key="partner_part",
                owner_key=str(partner.id), partner_id=partner.id,
                updated_by_id=partner.contact_user_id,
                data={"partner_role": paragraphs(80 + i, 1, 30),
                      "partner_activities": [{"activity": text(90 + i * 10 + j, 6)[:200],
                                              "when": f"2028-{1 + j:02d}-15"}
                                             for j in range(2)],
                      "partner_cofinancing": 90_000 + 10_000 * i}))

        categories = [CostCategory.personnel, CostCategory.travel,
                      CostCategory.external_services, CostCategory.equipment,
                      CostCategory.other]
        rows = 0
        for org in orgs:
            for year in (2027, 2028):
                for category in categories:
                    db.session.add(BudgetLine(
                        application_id=application.id, organisation_id=org.id,
                        category=category, year=year, description=text(200 + rows, 3)[:300],
                        amount=20_000 + 1_500 * ((rows * 7) % 40), updated_by_id=lead.id))
                    rows += 1
        assert rows == BUDGET_ROWS
        for i, org in enumerate(orgs):
            db.session.add(Cofinancing(
                application_id=application.id, organisation_id=org.id,
                kind=CofinancingKind.in_kind if i % 2 else CofinancingKind.cash,
                source=CofinancingSource.public, year=2027 + i % 2,
                description=f"Arbetstid {org.name}", amount=60_000 + 10_000 * i,
                updated_by_id=lead.id))

        small = new_application(standard_call, "Bokprat för äldre i Nybro", "standard")
        for key, values in standard_answers(300).items():
            db.session.add(SectionAnswer(application_id=small.id, section_key=key, data=values,
                                         updated_by_id=lead.id))
        db.session.commit()
        seeded = Seeded(application_id=application.id, lead_email=lead.email,
                        lead_user_id=lead.id, small_application_id=small.id)
        db.session.remove()
        return seeded


def snapshot_of(app, application_id: int) -> dict:
    """The snapshot a render job of this application would carry now."""
    from grants.applications.models import Application  # noqa: PLC0415
    from grants.applications.queries import current_partners, load_answers  # noqa: PLC0415
    from grants.applications.snapshot import build_snapshot  # noqa: PLC0415
    from grants.db import db  # noqa: PLC0415
    from grants.processes import form_for  # noqa: PLC0415
    with app.app_context():
        application = db.session.get(Application, application_id)
        snapshot = build_snapshot(application, form_for(application),
                                  load_answers(application.id),
                                  current_partners(application.id))
        db.session.remove()
        return snapshot


def html_of(app, snapshot: dict, kind: str = "preview") -> str:
    from grants.documents.rendering import application_html  # noqa: PLC0415
    with app.app_context(), app.test_request_context():
        return application_html(snapshot, kind)


def enqueue_renders(app, application_id: int, snapshots: list[dict]) -> list[int]:
    """One render job per snapshot (each a different content), all committed first and then
    pushed to the queue together, as fast as Redis takes them. Returns the job ids."""
    from grants.db import db  # noqa: PLC0415
    from grants.documents.rendering import document_fingerprint  # noqa: PLC0415
    from grants.jobs.models import Job  # noqa: PLC0415
    from grants.jobs.queue import enqueue_now  # noqa: PLC0415
    with app.app_context():
        jobs = [Job(kind="render_application", application_id=application_id,
                    payload={"kind": "preview", "snapshot": snapshot},
                    fingerprint=document_fingerprint(snapshot, "preview"))
                for snapshot in snapshots]
        db.session.add_all(jobs)
        db.session.commit()
        ids = [job.id for job in jobs]
        db.session.remove()
        for job_id in ids:
            enqueue_now(job_id, "pdf", app)
        return ids


def variant(snapshot: dict, tag: str) -> dict:
    """The same content with another title: same pages, a different fingerprint."""
    import copy  # noqa: PLC0415
    changed = copy.deepcopy(snapshot)
    changed["application"]["title"] = f"{snapshot['application']['title']} ({tag})"
    return changed


def jobs_status(app) -> dict[str, int]:
    """How many job rows are in each status."""
    from sqlalchemy import func  # noqa: PLC0415

    from grants.db import db  # noqa: PLC0415
    from grants.jobs.models import Job  # noqa: PLC0415
    with app.app_context():
        rows = db.session.execute(select(Job.status, func.count()).group_by(Job.status)).all()
        db.session.rollback()
        db.session.remove()
        return {str(status): count for status, count in rows}

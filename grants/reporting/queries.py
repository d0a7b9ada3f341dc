"""What the project page, the overview and the portfolio read about a granted project: its
grant, its documents with their due dates and who has not entered figures, and the money –
granted, claimed, paid and spent. Each read is a fixed number of queries, however many
partners, documents or lines the project has."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from grants.applications.models import Application
from grants.budget.models import BudgetLine, Cofinancing
from grants.db import db, utcnow
from grants.partners.models import ApplicationPartner
from grants.processes import form_for, workflow_for
from grants.submissions.models import FunderDecision, Submission
from grants.workflow.definition import Label


@dataclass
class DocumentLine:
    document: Application
    state_label: object
    finished: bool
    terminal: bool
    overdue: bool
    missing: list[str]           # organisations that have entered no figures yet
    answer: FunderDecision | None = None

    @property
    def due(self) -> datetime | None:
        return self.document.due_at


@dataclass
class Money:
    granted: int = 0
    claimed: int = 0
    paid: int = 0
    spent: int = 0


@dataclass
class Project:
    application: Application
    grant: FunderDecision | None
    documents: list[DocumentLine] = field(default_factory=list)
    money: Money = field(default_factory=Money)

    @property
    def next_due(self) -> DocumentLine | None:
        return next((d for d in self.documents if not d.finished), None)


def project_of(application: Application) -> Application:
    """The application whose project a document belongs to (itself for the application)."""
    return application.parent if application.parent_id is not None else application


def grant_of(application_id: int) -> FunderDecision | None:
    return db.session.scalar(select(FunderDecision).where(
        FunderDecision.application_id == application_id, FunderDecision.outcome == "granted")
        .order_by(FunderDecision.id.desc()).limit(1))


def load_project(application: Application, now: datetime | None = None) -> Project:
    """The project of `application` (a document of it, or the application itself)."""
    now = now or utcnow()
    root = project_of(application)
    project = Project(root, grant_of(root.id))
    documents = list(db.session.scalars(select(Application).where(
        Application.parent_id == root.id).order_by(Application.due_at, Application.id)))
    ids = [d.id for d in documents]
    missing = _without_figures(root, ids)
    answers = _latest_answers(ids)
    for document in documents:
        workflow = workflow_for(document)
        state = workflow.state(document.state) if workflow is not None else None
        finished = bool(state and state.is_finished)
        project.documents.append(DocumentLine(
            document, state.label if state else Label(document.state, document.state), finished,
            bool(state and state.terminal),
            not finished and document.due_at is not None and document.due_at < now,
            missing.get(document.id, []), answers.get(document.id)))
    project.money = project_money([root.id]).get(root.id, Money())
    return project


def _without_figures(root: Application, ids: list[int]) -> dict[int, list[str]]:
    """Per document, the organisations (lead and partners) with no cost line and no
    co-financing row in it yet – two queries for all documents."""
    if not ids:
        return {}
    organisations = [(root.lead_organisation_id, root.lead_organisation.name)]
    partners = db.session.execute(select(ApplicationPartner.application_id,
                                         ApplicationPartner.organisation_id).where(
        ApplicationPartner.application_id.in_(ids), ApplicationPartner.status != "removed")
        .order_by(ApplicationPartner.id)).all()
    names = {root.lead_organisation_id: root.lead_organisation.name}
    for partner in db.session.scalars(select(ApplicationPartner).where(
            ApplicationPartner.application_id == root.id)):
        names[partner.organisation_id] = partner.organisation.name
    entered: set[tuple[int, int]] = set()
    for model in (BudgetLine, Cofinancing):
        entered |= {tuple(row) for row in db.session.execute(
            select(model.application_id, model.organisation_id).where(
                model.application_id.in_(ids)).distinct())}
    by_document: dict[int, list[int]] = defaultdict(list)
    for document_id, organisation_id in partners:
        by_document[document_id].append(organisation_id)
    result = {}
    for document_id in ids:
        orgs = [organisations[0][0], *by_document.get(document_id, [])]
        result[document_id] = [names.get(o, str(o)) for o in orgs
                               if (document_id, o) not in entered]
    return result


def _latest_answers(ids: list[int]) -> dict[int, FunderDecision]:
    found: dict[int, FunderDecision] = {}
    if ids:
        for decision in db.session.scalars(select(FunderDecision).where(
                FunderDecision.application_id.in_(ids)).order_by(FunderDecision.id)):
            found[decision.application_id] = decision
    return found


def project_money(root_ids: list[int]) -> dict[int, Money]:
    """Per project (its application's id): granted (the grant), claimed (what the current
    submissions of its payment-claiming documents ask, `actuals: {claims_payment: true}`),
    paid (what the funder's answers paid out) and spent (the actual costs reported: of the
    kind of document that has reported the most, as each kind reports the costs so far).
    A fixed number of queries for any number of projects."""
    money: dict[int, Money] = {root: Money() for root in root_ids}
    if not root_ids:
        return money
    for application_id, amount in db.session.execute(
            select(FunderDecision.application_id, FunderDecision.granted_amount).where(
                FunderDecision.application_id.in_(root_ids),
                FunderDecision.outcome == "granted")):
        money[application_id].granted = int(amount or 0)
    documents = db.session.execute(select(Application.id, Application.parent_id,
                                          Application.kind, Application.form_name,
                                          Application.form_version,
                                          Application.baseline_id).where(
        Application.parent_id.in_(root_ids))).all()
    if not documents:
        return money
    parent = {d.id: d.parent_id for d in documents}
    kind = {d.id: d.kind for d in documents}
    claims = {d.id for d in documents if _claims(d)}
    # A document others are compared with is a budget (the revised one), not an account.
    baselines = {d.baseline_id for d in documents}
    current = dict(db.session.execute(select(Submission.application_id,
                                             Submission.requested_amount).where(
        Submission.application_id.in_(parent), Submission.status == "current")).all())
    for document_id, requested in current.items():
        if document_id in claims:
            money[parent[document_id]].claimed += int(requested or 0)
    for document_id, paid in db.session.execute(select(
            FunderDecision.application_id, func.sum(FunderDecision.paid_amount)).where(
            FunderDecision.application_id.in_(parent))
            .group_by(FunderDecision.application_id)):
        money[parent[document_id]].paid += int(paid or 0)   # a Decimal on PostgreSQL
    spent: dict[tuple[int, str], int] = defaultdict(int)
    for document_id, total in db.session.execute(select(
            BudgetLine.application_id, func.sum(BudgetLine.amount)).where(
            BudgetLine.application_id.in_([d for d in current if d not in baselines]))
            .group_by(BudgetLine.application_id)):
        spent[(parent[document_id], kind[document_id])] += int(total or 0)
    for (root, _kind), total in spent.items():
        money[root].spent = max(money[root].spent, total)
    return money


def _claims(row) -> bool:
    """The document asks to be paid (its form says `actuals: {claims_payment: true}`)."""
    form = form_for(row)
    return bool(form is not None and form.actuals.claims_payment)

"""Changing budget lines and co-financing. Each function is one transaction with a history row."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select, update

from grants import events
from grants.accounts.models import User
from grants.applications.models import Application
from grants.audit import audit
from grants.budget.models import BudgetLine, Cofinancing, VarianceExplanation
from grants.budget.totals import INDIRECT, BudgetSummary, summarise
from grants.db import db, utcnow
from grants.errors import OperationRefused
from grants.formengine.definition import FormDef
from grants.organisations.models import Organisation
from grants.partners.models import ApplicationPartner
from grants.processes import form_for
from grants.workflow import engine
from grants.workflow.definition import Workflow


def editable_organisations(application: Application, roles: set[str], actor: User,
                           workflow: Workflow, partners: list[ApplicationPartner]) -> set[int]:
    """Whose budget this actor may change now: the lead organisation's under the 'common' edit
    rule, a partner's under 'partner_part' (the lead, or that partner's own contact)."""
    result: set[int] = set()
    parts = engine.editable_parts(workflow, application.state, roles)
    if "common" in parts and "lead" in roles:
        result.add(application.lead_organisation_id)
    if "partner_part" in parts:
        allowed = set(workflow.state(application.state).roles_editing("partner_part"))
        for partner in partners:
            if ("lead" in roles and "lead" in allowed) or (
                    "partner" in roles and "partner" in allowed
                    and partner.contact_user_id == actor.id):
                result.add(partner.organisation_id)
    return result


def _check(application, organisation_id, allowed: set[int]) -> None:
    if organisation_id not in allowed:
        raise OperationRefused(_("You cannot change this organisation's budget in the "
                                 "application's current state."))


def _touch(application: Application, actor: User | None = None) -> None:
    """Mark the application changed; confirmations of the old budget become void."""
    db.session.execute(update(Application).where(Application.id == application.id)
                       .values(updated_at=utcnow()))
    if actor is not None:
        db.session.flush()
        events.content_changed.send(application=application, actor=actor,
                                    form=form_for(application), what="budget")


def _event(actor, application, action, after) -> None:
    audit(actor_id=actor.id, action=action, object_type="application",
          object_id=application.id, before=None, after=after)


def add_line(*, actor: User, application: Application, allowed: set[int],
             data: dict[str, Any]) -> BudgetLine:
    form = form_for(application)
    if form is None or form.cost_category(data["category"]) is None:
        raise OperationRefused(_("Choose one of the cost categories of this application's "
                                 "form."))
    line = BudgetLine(category=data["category"], **_row(application, data, actor))
    return _add(actor, application, allowed, line, "budget.add",
                lambda: {"line": line.id, "category": str(line.category)})


def add_cofinancing(*, actor: User, application: Application, allowed: set[int],
                    data: dict[str, Any]) -> Cofinancing:
    """Cash, or work in kind given as hours × an hourly rate (the amount is their product)
    or as a value."""
    hours, rate = data.get("hours"), data.get("hourly_rate")
    if (hours is None) != (rate is None):
        raise OperationRefused(_("Give both the hours and the hourly rate, or neither."))
    if hours is not None:
        if data["kind"] != "in_kind":
            raise OperationRefused(_("Hours and an hourly rate are for co-financing in kind."))
        data = {**data, "amount": hours * rate}
    item = Cofinancing(kind=data["kind"], source=data["source"], hours=hours,
                       hourly_rate=rate, **_row(application, data, actor))
    return _add(actor, application, allowed, item, "cofinancing.add",
                lambda: {"item": item.id, "kind": str(item.kind)})


def _row(application: Application, data: dict[str, Any], actor: User) -> dict[str, Any]:
    return {"application_id": application.id, "organisation_id": data["organisation_id"],
            "year": data["year"], "description": data["description"],
            "amount": data["amount"], "updated_by_id": actor.id}


def _named(item) -> dict[str, Any]:
    """What an audit row says about a budget line or co-financing row besides its id: whose
    it is (the organisation's id, and its name, which reads even if the row is gone) and what
    it is for."""
    organisation = db.session.get(Organisation, item.organisation_id)
    what = ({"category": str(item.category)} if isinstance(item, BudgetLine)
            else {"kind": str(item.kind)})
    return {"organisation": item.organisation_id,
            "organisation_name": organisation.name if organisation is not None else None,
            **what, "description": item.description}


def _add(actor: User, application: Application, allowed: set[int], item, action: str,
         describe) -> Any:
    """Add a cost line or a co-financing row of an organisation this user may budget for,
    in one transaction with its audit row."""
    _check(application, item.organisation_id, allowed)
    db.session.add(item)
    _touch(application, actor)
    db.session.flush()
    _event(actor, application, action, {**describe(), **_named(item), "year": item.year,
                                        "amount": item.amount})
    db.session.commit()
    return item


def delete_item(*, actor: User, application: Application, allowed: set[int], model,
                item_id: int) -> None:
    item = db.session.get(model, item_id)
    if item is None or item.application_id != application.id:
        raise OperationRefused(_("That row no longer exists."))
    _check(application, item.organisation_id, allowed)
    details = {"id": item_id, **_named(item), "year": item.year, "amount": item.amount}
    db.session.delete(item)
    _touch(application, actor)
    _event(actor, application, f"{model.__tablename__}.delete", details)
    db.session.commit()


def save_explanation(*, actor: User, application: Application, allowed: set[int],
                     organisation_id: int, category: str, text: str) -> VarianceExplanation:
    """Why an organisation's actual costs in a category differ from its budget. Emptying the
    text removes the explanation. One transaction with its audit row."""
    _check(application, organisation_id, allowed)
    text = (text or "").strip()[:2000]
    row = db.session.scalar(select(VarianceExplanation).where(
        VarianceExplanation.application_id == application.id,
        VarianceExplanation.organisation_id == organisation_id,
        VarianceExplanation.category == category))
    before = row.text if row is not None else None
    if row is None:
        row = VarianceExplanation(application_id=application.id,
                                  organisation_id=organisation_id, category=category, text=text,
                                  updated_by_id=actor.id)
        db.session.add(row)
    else:
        row.text, row.updated_by_id = text, actor.id
    _touch(application, actor)
    db.session.flush()
    audit(actor_id=actor.id, action="variance.explain", object_type="application",
          object_id=application.id, before={"text": before} if before is not None else None,
          after={"organisation": organisation_id, "category": category, "text": text})
    db.session.commit()
    return row


def load_budget(application_id: int) -> tuple[list[BudgetLine], list[Cofinancing]]:
    lines = db.session.scalars(select(BudgetLine).where(
        BudgetLine.application_id == application_id)
        .order_by(BudgetLine.organisation_id, BudgetLine.year, BudgetLine.id)).all()
    items = db.session.scalars(select(Cofinancing).where(
        Cofinancing.application_id == application_id)
        .order_by(Cofinancing.organisation_id, Cofinancing.year, Cofinancing.id)).all()
    return list(lines), list(items)


def budget_summary(lines: list[BudgetLine], items: list[Cofinancing],
                   form: FormDef | None = None) -> BudgetSummary:
    """The totals; indirect costs are the lines in the form's indirect categories (today's
    `indirect` without a form)."""
    indirect = form.indirect_categories if form is not None else frozenset({INDIRECT})
    return summarise(
        [{"organisation": l.organisation.name, "category": str(l.category), "year": l.year,
          "amount": l.amount} for l in lines],
        [{"organisation": c.organisation.name, "year": c.year, "amount": c.amount}
         for c in items], indirect)

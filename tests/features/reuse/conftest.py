"""A Kulturrådet application to start from, with a partner, its own part and a budget, and
calls to copy it to: another Kulturrådet call (the same form), a region's call (the common
form) and a closed one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from grants.applications.models import Application, SectionAnswer
from grants.budget.models import BudgetLine, Cofinancing
from grants.calls.models import Call, Funder
from grants.db import db, utcnow
from tests.factories import add_partner

SOURCE_ANSWERS = {
    "summary": {"short_name": "Läslust", "summary": "Biblioteken når äldre och nyanlända.",
                "start_date": "2027-08-15", "end_date": "2029-06-30"},
    "background": {"background": "Många står utanför den **digitala välfärden**.\n\n"
                                 "- äldre\n- nyanlända"},
    "cultural_aims": {"cultural_aims": "Fler läser.", "priorities": ["literacy"]},
    "target_groups": {"target_groups": [{"group": "Äldre", "count": 600}]},
}


@dataclass
class Setting:
    source: Application
    partner_id: int
    same: Call
    region: Call
    closed: Call


def make_call(funder: Funder, title: str, form: str, *, open_: bool = True,
              steering_group_id: int | None = None) -> Call:
    now = utcnow()
    call = Call(funder_id=funder.id, title=title, opens_at=now - timedelta(days=20),
                deadline_at=now + (timedelta(days=40) if open_ else -timedelta(days=1)),
                workflow_name="joint_application", form_name=form,
                max_chars_per_field=3000, steering_group_id=steering_group_id)
    db.session.add(call)
    db.session.flush()
    return call


@pytest.fixture
def setting(world) -> Setting:
    world.call.form_name = "kulturradet_utveckling"
    db.session.commit()
    source = world.new_application(form="kulturradet_utveckling", answers=SOURCE_ANSWERS,
                                   title="Digitala vägledare")
    partner = add_partner(world, source)           # Växjö, contact other@demo.test
    db.session.add(SectionAnswer(application_id=source.id, section_key="partner_part",
                                 owner_key=str(partner.id), partner_id=partner.id,
                                 data={"partner_role": "Växjö håller i workshoppar."},
                                 updated_by_id=world.users["other_lead"].id))
    for org, category, amount in (("kalmar", "personnel", 300_000),
                                  ("vaxjo", "travel", 20_000),
                                  ("kalmar", "catering", 50_000)):
        db.session.add(BudgetLine(application_id=source.id, organisation_id=world.orgs[org].id,
                                  category=category, year=2027, description=f"{category} {org}",
                                  amount=amount))
    db.session.add(Cofinancing(application_id=source.id, organisation_id=world.orgs["vaxjo"].id,
                               kind="cash", source="public", year=2027, description="Växjö",
                               amount=10_000))
    funder = db.session.get(Funder, world.call.funder_id)
    region = Funder(name="Region Kalmar län", short_name="Region Kalmar",
                    slug="region-kalmar", submission_email="region@example.org")
    db.session.add(region)
    db.session.flush()
    same = make_call(funder, "Utvecklingsbidrag 2028", "kulturradet_utveckling",
                     steering_group_id=world.group.id)
    region_call = make_call(region, "Regionalt utvecklingsbidrag", "standard")
    closed = make_call(funder, "Stängd utlysning", "kulturradet_utveckling", open_=False)
    db.session.commit()
    return Setting(source, partner.id, same, region_call, closed)

"""The "Also applied to" panel costs the same however many applications are linked (no query
per linked application: N+1)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from grants.applications.models import Application, TransitionRecord
from grants.calls.models import Call, Funder
from grants.db import db, utcnow
from grants.reuse.models import ApplicationLink, ProjectGroup
from grants.submissions.models import FunderDecision
from tests.system.test_sql_counts import assert_flat

_serial = itertools.count(1)


def test_the_linked_panel_is_flat_in_the_number_of_linked_applications(world, login_as):
    source = world.new_application(title="Källan")
    group = ProjectGroup()
    db.session.add(group)
    db.session.flush()
    db.session.add(ApplicationLink(application_id=source.id, group_id=group.id))

    def grow(count: int) -> None:
        for _ in range(count):
            n = next(_serial)
            funder = Funder(name=f"Region nr {n}", short_name=f"R{n}", slug=f"region-{n}")
            db.session.add(funder)
            db.session.flush()
            call = Call(funder_id=funder.id, title=f"Utlysning {n}",
                        opens_at=utcnow() - timedelta(days=3),
                        deadline_at=utcnow() + timedelta(days=30),
                        workflow_name="joint_application", form_name="standard")
            db.session.add(call)
            db.session.flush()
            other = Application(call_id=call.id, lead_organisation_id=source.lead_organisation_id,
                                lead_user_id=source.lead_user_id, title=f"Kopia {n}",
                                workflow_name=source.workflow_name,
                                workflow_version=source.workflow_version,
                                form_name="standard", form_version=source.form_version,
                                state="draft")
            db.session.add(other)
            db.session.flush()
            db.session.add(TransitionRecord(application_id=other.id, transition="create",
                                            from_state="", to_state="draft"))
            db.session.add(ApplicationLink(application_id=other.id, group_id=group.id,
                                           copied_from_id=source.id))
            db.session.add(FunderDecision(application_id=other.id, outcome="granted",
                                          granted_amount=1000 * n, decision_date=date.today()))
    grow(1)
    db.session.commit()
    lead = login_as("lead@demo.test")
    assert_flat(lead, f"/applications/{source.id}", grow)
    assert "Kopia 25" in lead.get(f"/applications/{source.id}").get_data(as_text=True)

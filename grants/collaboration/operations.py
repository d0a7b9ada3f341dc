"""What changes state in working together: restoring a kept version of a section."""

from __future__ import annotations

from flask_babel import gettext as _

from grants import events
from grants.accounts.models import User
from grants.applications.models import Application, instance_key
from grants.applications.operations import write_section
from grants.applications.queries import may_edit_section
from grants.audit import audit
from grants.collaboration.models import ContentRevision
from grants.collaboration.revisions import SECTIONS, keep_revisions
from grants.db import db
from grants.errors import OperationRefused
from grants.formengine.definition import FormDef
from grants.i18n import pick_label
from grants.partners.models import ApplicationPartner
from grants.workflow.definition import Workflow


def restore_section(*, application: Application, roles: set[str], actor: User,
                    workflow: Workflow, form: FormDef, section_key: str,
                    partner: ApplicationPartner | None, revision: ContentRevision,
                    expected_version: int) -> ContentRevision:
    """Make a kept version the section's current content again, as one recorded save: a new
    version that says which one it restored, audited, with the same checks as saving (who may
    edit it in this state; someone else's save since the page was opened is StaleEdit)."""
    section = form.section(section_key)
    target = instance_key(section_key, partner.id if partner is not None else None)
    if section is None or revision.target != target or revision.application_id != application.id:
        raise OperationRefused(_("This version does not belong to this section."))
    if not may_edit_section(application, roles, actor, workflow, section, partner):
        state = workflow.state(application.state)
        raise OperationRefused(_("“%(section)s” cannot be edited by you while the application "
                                 "is in state “%(state)s”.", section=pick_label(section.title),
                                 state=pick_label(state.label) if state else application.state))
    write_section(application=application, actor=actor, section_key=section_key,
                  partner=partner, data=dict(revision.data), expected_version=expected_version)
    kept = keep_revisions(application, actor.id, [SECTIONS],
                          restored_from={target: revision.number})
    new = next((r for r in kept if r.target == target), None)
    if new is None:
        db.session.rollback()
        raise OperationRefused(_("Nothing was restored: version %(number)d says the same as the "
                                 "current version.", number=revision.number))
    audit(actor_id=actor.id, action="section.restore", object_type="application",
          object_id=application.id, before=None,
          after={"section": section_key, "partner": partner.id if partner else None,
                 "restored": revision.number, "version": new.number})
    events.content_changed.send(application=application, actor=actor, form=form,
                                what="section")
    db.session.commit()
    return new

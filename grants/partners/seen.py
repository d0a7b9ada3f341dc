"""What an organisation's signatory confirmed, as a point "what changed since" compares with."""

from __future__ import annotations

from flask_babel import gettext as _

from grants.collaboration.shown import shown_content
from grants.collaboration.since import SeenPoint, seen_point
from grants.db import db
from grants.i18n import format_date_local
from grants.partners.models import ApplicationPartner, PartnerConfirmation
from grants.processes import form_for


@seen_point("confirmation")
def confirmation_seen(application, ident: str) -> SeenPoint | None:
    """A confirmation of this application (a partner's or the lead organisation's): the content
    as the signatory vouched for it; compared are the parts it vouched for (the common sections,
    its own part, the budget and partners)."""
    confirmation = db.session.get(PartnerConfirmation, int(ident))
    if confirmation is None:
        return None
    partner = db.session.get(ApplicationPartner, confirmation.partner_id) \
        if confirmation.partner_id is not None else None
    if (partner.application_id if partner is not None
            else confirmation.lead_application_id) != application.id:
        return None
    form = form_for(application)
    sections = {s.key for s in form.sections if s.part == "common"} if form else set()
    if partner is not None and form is not None:
        sections |= {f"{s.key}@{partner.id}" for s in form.sections if s.part == "partner_part"}
    organisation = partner.organisation if partner is not None else \
        application.lead_organisation
    kept = shown_content(application.id, confirmation.fingerprint)
    return SeenPoint(_("%(organisation)s confirmed it (%(name)s, %(date)s)",
                       organisation=organisation.name, name=confirmation.signatory_name,
                       date=format_date_local(confirmation.confirmed_at)),
                     kept.snapshot if kept is not None else None, sections)

"""Partner pages: the lead adds, re-invites and removes partners; contacts accept invitations."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from grants.applications.page import confirmation_states, load_application_page, workspace_context
from grants.applications.queries import current_partners, load_answers
from grants.db import db
from grants.errors import FieldsRefused, OperationRefused
from grants.organisations.models import Organisation, OrganisationKind
from grants.partners import operations, signatories
from grants.partners.confirmation import confirm as do_confirm
from grants.partners.forms import (
    AcceptForm,
    AddPartnerForm,
    ConfirmForm,
    ContactForm,
    NewAccountForm,
    SignatoryForm,
)
from grants.partners.models import ApplicationPartner
from grants.processes import form_for

bp = Blueprint("partners", __name__)


def _load(application_id: int):
    application, roles, workflow, _form = load_application_page(application_id)
    return application, roles, workflow


def _load_partner(application, partner_id: int) -> ApplicationPartner:
    partner = db.session.get(ApplicationPartner, partner_id)
    if partner is None or partner.application_id != application.id:
        abort(404)
    return partner


@bp.route("/applications/<int:application_id>/partners", methods=["GET", "POST"])
def index(application_id: int):
    application, roles, workflow = _load(application_id)
    may_manage = operations.may_manage_partners(application, roles, workflow)
    form = _add_form(application, current_partners(application.id), posted=True)
    if request.method == "POST":
        if not may_manage:
            abort(403)
        if form.validate_on_submit():
            new = None
            if form.organisation_id.data == 0:
                new = {"name": form.new_name.data, "org_number": form.new_org_number.data,
                       "county": form.new_county.data, "kind": form.new_kind.data}
            try:
                partner = operations.add_partner(
                    actor=current_user, application=application, roles=roles, workflow=workflow,
                    organisation_id=form.organisation_id.data or None, new_organisation=new,
                    contact_name=form.contact_name.data, contact_email=form.contact_email.data)
            except OperationRefused as refused:
                form.form_errors.append(refused.message)
            else:
                flash(_("%(org)s was added; an invitation was sent to %(email)s.",
                        org=partner.organisation.name, email=partner.contact_email), "success")
                return redirect(url_for(".index", application_id=application.id), 303)
    return _render_index(application, roles, workflow, add_form=form)


def _render_index(application, roles, workflow, *, add_form: AddPartnerForm | None = None,
                  signatory_forms: dict | None = None):
    """The partners page: the partners, the authorised signatories of every organisation
    (the lead organisation first), and the forms the user may use. A refused form comes back
    with its errors (status 422)."""
    partners = current_partners(application.id)
    may_manage = operations.may_manage_partners(application, roles, workflow)
    form = add_form if add_form is not None else _add_form(application, partners, posted=False)
    named = signatories.signatories_of(application.id)
    pending = signatories.pending_user_ids(s.user_id for s in named.values())
    rows, forms = [], dict(signatory_forms or {})
    organisations = [(None, application.lead_organisation)] + [(p, p.organisation)
                                                                for p in partners]
    may = {o.id: signatories.may_name_signatory(application, roles, current_user, workflow, p)
           for p, o in organisations}
    people = signatories.candidates_of(o.id for _p, o in organisations
                                       if may[o.id] and o.id not in forms)
    for partner, organisation in organisations:
        current = named.get(organisation.id)
        may_name = may[organisation.id]
        if may_name and organisation.id not in forms:
            forms[organisation.id] = _signatory_form(organisation, posted=False,
                                                     people=people.get(organisation.id, []))
            if current is not None:
                forms[organisation.id].user_id.data = current.user_id
                forms[organisation.id].title.data = current.title
        rows.append({"organisation": organisation, "lead": partner is None,
                     "signatory": current, "may_name": may_name,
                     "pending": current is not None and current.user_id in pending,
                     "form": forms.get(organisation.id) if may_name else None})
    refused = bool(form.errors or form.form_errors) or any(
        f.errors or f.form_errors for f in (signatory_forms or {}).values())
    form_def = form_for(application)
    confirmations = confirmation_states(application, roles, workflow, form_def,
                                        load_answers(application.id), partners)
    return render_template("partners/index.html",
                           **workspace_context(application, roles, workflow, form_def,
                                               "partners", partners=partners,
                                               confirmations=confirmations),
                           form=form, may_manage=may_manage, contact_form=ContactForm(),
                           signatory_rows=rows), 422 if refused else 200


def _add_form(application, partners, *, posted: bool) -> AddPartnerForm:
    form = AddPartnerForm() if posted else AddPartnerForm(formdata=None)
    taken = {p.organisation_id for p in partners} | {application.lead_organisation_id}
    form.organisation_id.choices = [SelectChoice(0, _("New organisation"))] + [
        SelectChoice(o.id, f"{o.name} ({o.county})") for o in db.session.scalars(
            select(Organisation).order_by(Organisation.name)) if o.id not in taken]
    form.new_kind.choices = [SelectChoice(k.value, k.value) for k in OrganisationKind]
    return form


@bp.post("/applications/<int:application_id>/partners/<int:partner_id>/remove")
def remove(application_id: int, partner_id: int):
    application, roles, workflow = _load(application_id)
    partner = _load_partner(application, partner_id)
    if not AcceptForm().validate_on_submit():
        abort(400)
    try:
        operations.remove_partner(actor=current_user, application=application, roles=roles,
                                  workflow=workflow, partner=partner)
    except OperationRefused as refused:
        flash(refused.message, "error")
    else:
        flash(_("%(org)s is no longer a partner. What it wrote is kept.",
                org=partner.organisation.name), "success")
    return redirect(url_for(".index", application_id=application.id), 303)


@bp.post("/applications/<int:application_id>/partners/<int:partner_id>/contact")
def contact(application_id: int, partner_id: int):
    application, roles, workflow = _load(application_id)
    partner = _load_partner(application, partner_id)
    form = ContactForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for(".index", application_id=application.id), 303)
    try:
        operations.change_contact(actor=current_user, application=application, roles=roles,
                                  workflow=workflow, partner=partner,
                                  contact_name=form.contact_name.data,
                                  contact_email=form.contact_email.data)
    except OperationRefused as refused:
        flash(refused.message, "error")
    else:
        flash(_("The contact was changed; an invitation was sent to %(email)s.",
                email=partner.contact_email), "success")
    return redirect(url_for(".index", application_id=application.id), 303)


@bp.route("/partner-invitations/<token>", methods=["GET", "POST"])
def accept(token: str):
    invitation = operations.find_invitation(token)
    if invitation is None:
        return render_template("partners/accept.html", invitation=None), 410
    partner = db.session.get(ApplicationPartner, invitation.partner_id)
    accept_form, account_form = AcceptForm(prefix="accept"), NewAccountForm(prefix="account")
    if current_user.is_authenticated and request.method == "POST" and \
            accept_form.validate_on_submit():
        try:
            operations.accept_invitation(token, current_user)
        except OperationRefused as refused:
            flash(refused.message, "error")
        else:
            flash(_("Welcome as the contact for %(org)s.", org=partner.organisation.name),
                  "success")
            return redirect(url_for("applications.show", application_id=partner.application_id),
                            303)
    elif not current_user.is_authenticated and request.method == "POST" and \
            account_form.validate_on_submit():
        try:
            user = operations.create_account_and_accept(token, account_form.name.data,
                                                        account_form.password.data)
        except OperationRefused as refused:
            account_form.form_errors.append(refused.message)
        else:
            login_user(user)
            flash(_("Welcome as the contact for %(org)s.", org=partner.organisation.name),
                  "success")
            return redirect(url_for("applications.show", application_id=partner.application_id),
                            303)
    status = 422 if account_form.errors or account_form.form_errors else 200
    return render_template("partners/accept.html", invitation=invitation, partner=partner,
                           accept_form=accept_form, account_form=account_form,
                           token=token), status


@bp.post("/applications/<int:application_id>/partners/<int:partner_id>/confirm")
def confirm(application_id: int, partner_id: int):
    application, roles, workflow = _load(application_id)
    return _confirm(application, roles, workflow, _load_partner(application, partner_id))


@bp.post("/applications/<int:application_id>/lead/confirm")
def confirm_lead(application_id: int):
    """The lead organisation's authorised signatory signs the version shown."""
    application, roles, workflow = _load(application_id)
    return _confirm(application, roles, workflow, None)


def _confirm(application, roles, workflow, partner: ApplicationPartner | None):
    anchor = f"confirm-{partner.id if partner is not None else 'lead'}"
    organisation = partner.organisation if partner is not None else \
        application.lead_organisation
    form = ConfirmForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for(".index", application_id=application.id, _anchor=anchor),
                        303)
    try:
        do_confirm(actor=current_user, application=application, roles=roles, workflow=workflow,
                   form=form_for(application), answers=load_answers(application.id),
                   partner=partner, shown_fingerprint=form.fingerprint.data or "",
                   shown_parts=form.parts.data or "")
    except OperationRefused as refused:
        flash(refused.message, "error")
        for detail in refused.details:
            flash(detail, "error-detail")
        return redirect(url_for(".index", application_id=application.id, _anchor=anchor),
                        303)
    else:
        flash(_("%(org)s has confirmed this version of the application.",
                org=organisation.name), "success")
    return redirect(url_for(".index", application_id=application.id,
                            _anchor="confirmations"), 303)


@bp.post("/applications/<int:application_id>/signatories/<int:organisation_id>")
def signatory(application_id: int, organisation_id: int):
    """Name the authorised signatory of the lead organisation or of a partner."""
    application, roles, workflow = _load(application_id)
    partner = None
    if organisation_id != application.lead_organisation_id:
        partner = db.session.scalar(select(ApplicationPartner).where(
            ApplicationPartner.application_id == application.id,
            ApplicationPartner.organisation_id == organisation_id))
        if partner is None or not partner.is_current:
            abort(404)
    organisation = partner.organisation if partner is not None else \
        application.lead_organisation
    if not signatories.may_name_signatory(application, roles, current_user, workflow, partner):
        abort(403)
    form = _signatory_form(organisation, posted=True)
    if form.validate_on_submit():
        try:
            named = signatories.name_signatory(
                actor=current_user, application=application, roles=roles, workflow=workflow,
                partner=partner, user_id=form.user_id.data or None, name=form.name.data,
                email=form.email.data, title=form.title.data)
        except FieldsRefused as refused:
            for name, errors in refused.field_errors.items():
                form[name].errors = list(errors)
            form.form_errors.append(refused.message)
        except OperationRefused as refused:
            form.form_errors.append(refused.message)
        else:
            flash(_("%(name)s is now the authorised signatory of %(org)s.", name=named.name,
                    org=organisation.name), "success")
            return redirect(url_for(".index", application_id=application.id,
                                    _anchor="signatories"), 303)
    return _render_index(application, roles, workflow, signatory_forms={organisation.id: form})


def _signatory_form(organisation, *, posted: bool, people=None) -> SignatoryForm:
    """The form naming the organisation's signatory; `people`: its candidates, when read."""
    form = SignatoryForm(prefix=f"s{organisation.id}") if posted else \
        SignatoryForm(prefix=f"s{organisation.id}", formdata=None)
    people = signatories.candidates(organisation) if people is None else people
    form.user_id.choices = [SelectChoice(0, _("New person"))] + [
        SelectChoice(u.id, f"{u.name} ({u.email})") for u in people]
    return form


@bp.post("/applications/<int:application_id>/partners/<int:partner_id>/certificate")
def certificate(application_id: int, partner_id: int):
    application, roles, _workflow = _load(application_id)
    partner = _load_partner(application, partner_id)
    if not AcceptForm().validate_on_submit():
        abort(400)
    try:
        operations.request_certificate(application=application, actor=current_user,
                            form=form_for(application), partner=partner, roles=roles)
    except OperationRefused as refused:
        flash(refused.message, "error")
    else:
        flash(_("The co-financing certificate for %(org)s is being made.",
                org=partner.organisation.name), "info")
    return redirect(url_for("applications.documents", application_id=application.id,
                            _anchor="documents"), 303)

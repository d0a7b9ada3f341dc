"""Partner pages: the lead adds, re-invites and removes partners; contacts accept invitations."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from grants.applications.page import load_application_page
from grants.applications.queries import current_partners, load_answers
from grants.db import db
from grants.errors import OperationRefused
from grants.organisations.models import Organisation, OrganisationKind
from grants.partners import operations
from grants.partners.confirmation import confirm as do_confirm
from grants.partners.forms import (
    AcceptForm,
    AddPartnerForm,
    ConfirmForm,
    ContactForm,
    NewAccountForm,
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
    partners = current_partners(application.id)
    may_manage = operations.may_manage_partners(application, roles, workflow)
    form = AddPartnerForm()
    taken = {p.organisation_id for p in partners} | {application.lead_organisation_id}
    form.organisation_id.choices = [SelectChoice(0, _("New organisation"))] + [
        SelectChoice(o.id, f"{o.name} ({o.county})") for o in db.session.scalars(
            select(Organisation).order_by(Organisation.name)) if o.id not in taken]
    form.new_kind.choices = [SelectChoice(k.value, k.value) for k in OrganisationKind]
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
    status = 422 if form.errors or form.form_errors else 200
    return render_template("partners/index.html", application=application, partners=partners,
                           form=form, may_manage=may_manage, contact_form=ContactForm()), status


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
    partner = _load_partner(application, partner_id)
    form = ConfirmForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("applications.show", application_id=application.id,
                                _anchor="partners-title"), 303)
    try:
        do_confirm(actor=current_user, application=application, roles=roles, workflow=workflow,
                   form=form_for(application), answers=load_answers(application.id),
                   partner=partner, signatory_name=form.signatory_name.data,
                   signatory_title=form.signatory_title.data,
                   shown_fingerprint=form.fingerprint.data or "",
                   shown_parts=form.parts.data or "")
    except OperationRefused as refused:
        flash(refused.message, "error")
        for detail in refused.details:
            flash(detail, "error-detail")
        return redirect(url_for("applications.show", application_id=application.id,
                                _anchor=f"confirm-{partner.id}"), 303)
    else:
        flash(_("%(org)s has confirmed this version of the application.",
                org=partner.organisation.name), "success")
    return redirect(url_for("applications.show", application_id=application.id), 303)


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
    return redirect(url_for("applications.show", application_id=application.id,
                            _anchor="documents"), 303)

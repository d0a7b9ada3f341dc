"""The audit log: every change is an append-only row with who, when, before and after – field
edits, transitions, votes, jäv, role changes, downloads of documents of record – shown on the
application page and exported by coordinators."""

from __future__ import annotations

import csv
import io
import json
from datetime import time, timedelta

import pytest
from sqlalchemy import delete, select, update

from grants.audit import AuditEvent, AuditLogIsAppendOnly
from grants.db import db
from grants.deadlines.milestones import STOCKHOLM, from_local
from grants.documents.models import Document
from tests.factories import FULL_ANSWERS, vote


def events(application_id: int | None = None, action: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if application_id is not None:
        query = query.where(AuditEvent.object_type == "application",
                            AuditEvent.object_id == application_id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def test_field_edits_are_recorded_with_before_and_after(app, world, login_as):
    application = world.new_application(answers=FULL_ANSWERS)
    lead = login_as("lead@demo.test")
    assert lead.post(f"/applications/{application.id}/sections/aims", {
        "aims": "Mål: 800 deltagare.", "version": "1"}).status_code == 303
    assert lead.post(f"/applications/{application.id}/sections/aims", {
        "aims": "Mål: 800 deltagare.", "version": "2"}).status_code == 303  # nothing changed
    [event] = events(application.id, "section.update")
    assert event.actor_id == world.users["lead"].id
    assert event.before == {"section": "aims", "aims": "Mål: 500 deltagare, 25 kommuner, 3 län."}
    assert event.after == {"section": "aims", "aims": "Mål: 800 deltagare."}
    # The application's history shows it, with what changed.
    page = lead.get(f"/applications/{application.id}/history").get_data(as_text=True)
    history = page.split('id="history-title"')[1]
    assert "Mål: 500 deltagare, 25 kommuner, 3 län. → Mål: 800 deltagare." in history


def test_transitions_votes_and_recusals_are_recorded(app, world, login_as):
    from grants.steering.models import SteeringMember
    from tests.factories import make_user
    for address, name in (("steering3@demo.test", "Tove Berg"), ("steering4@demo.test",
                                                                  "Ulf Ström")):
        member = make_user(address, name, world.orgs["sydost"])
        db.session.flush()
        db.session.add(SteeringMember(group_id=world.group.id, user_id=member.id))
    db.session.commit()
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    steering1, steering2 = login_as("steering1@demo.test"), login_as("steering2@demo.test")
    vote(steering1, application, "changes", "Budgeten är för hög.")
    vote(steering1, application, "approve")  # changed her mind: before and after
    steering2.post(f"/applications/{application.id}/recusal",
                   {"reason": "Jag sitter i Växjös styrelse."})
    [first, changed] = events(application.id, "steering.vote")
    assert first.before is None and first.after["choice"] == "changes"
    assert changed.before["choice"] == "changes" and changed.after["choice"] == "approve"
    [recusal] = events(application.id, "steering.recusal")
    assert recusal.after == {"reason": "Jag sitter i Växjös styrelse."}
    coordinator = login_as("coordinator@demo.test")
    db.session.expire_all()
    state_version = db.session.get(type(application), application.id).state_version
    assert coordinator.post(f"/applications/{application.id}/transitions/request_changes", {
        "state_version": str(state_version), "comment": "Ändra budgeten."}).status_code == 303
    [transition] = events(application.id, "application.transition")
    assert transition.actor_id == world.users["coordinator"].id
    assert transition.before == {"state": "steering_approval"}
    assert transition.after == {"state": "changes_requested", "transition": "request_changes",
                                "comment": "Ändra budgeten."}


def test_role_changes_are_recorded(app, world, login_as):
    coordinator = login_as("coordinator@demo.test")
    user = world.user("lead")
    coordinator.post(f"/admin/users/{user.id}", {
        "organisation_ids": [world.orgs["kalmar"].id], "is_coordinator": "y",
        "is_active_account": "y"})
    [event] = events(action="user.update")
    assert event.before["is_coordinator"] is False and event.after["is_coordinator"] is True
    coordinator.post(f"/admin/steering-groups/{world.group.id}", {
        "name": world.group.name, "member_ids": [world.users["steering1"].id],
        "chair_id": "0"})
    [group] = events(action="steering_group.update")
    assert group.before["members"] == sorted([world.users["steering1"].id,
                                              world.users["steering2"].id])
    assert group.after["members"] == [world.users["steering1"].id]


def test_downloads_of_documents_of_record_are_recorded_drafts_are_not(app, world, login_as):
    application = world.new_application(answers=FULL_ANSWERS)
    final = Document(application_id=application.id, kind="final", fingerprint="f" * 64,
                     filename="ansokan.pdf", size=4, sha256="a" * 64, content=b"%PDF")
    draft = Document(application_id=application.id, kind="preview", fingerprint="e" * 64,
                     filename="utkast.pdf", size=4, sha256="b" * 64, content=b"%PDF")
    db.session.add_all([final, draft])
    db.session.commit()
    partner = login_as("steering1@demo.test")
    assert partner.get(f"/applications/{application.id}/documents/{draft.id}").status_code == 200
    assert events(application.id, "download.document") == []
    assert partner.get(f"/applications/{application.id}/documents/{final.id}").status_code == 200
    [event] = events(application.id, "download.document")
    assert event.actor_id == world.users["steering1"].id
    assert event.after == {"document": final.id, "kind": "final", "filename": "ansokan.pdf",
                           "sha256": "a" * 64}


def test_coordinator_exports_one_applications_audit_log(app, world, login_as):
    application = world.new_application(answers=FULL_ANSWERS)
    other = world.new_application(answers=FULL_ANSWERS, title="Annan")
    lead = login_as("lead@demo.test")
    lead.post(f"/applications/{application.id}/sections/aims", {"aims": "Nya mål, åäö",
                                                                 "version": "1"})
    lead.post(f"/applications/{other.id}/sections/aims", {"aims": "Andra", "version": "1"})
    assert lead.get(f"/admin/audit?format=csv&application={application.id}").status_code == 403
    coordinator = login_as("coordinator@demo.test")
    page = coordinator.get(f"/applications/{application.id}/history").get_data(as_text=True)
    assert f"/admin/audit?application={application.id}&amp;format=csv" in page
    response = coordinator.get(f"/admin/audit?format=csv&application={application.id}")
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["section.update"]
    assert json.loads(rows[0]["after"]) == {"section": "aims", "aims": "Nya mål, åäö"}
    assert json.loads(rows[0]["before"])["aims"].startswith("Mål: 500")


def test_audit_rows_cannot_be_changed_or_removed(app, world, login_as):
    application = world.new_application(answers=FULL_ANSWERS)
    login_as("lead@demo.test").post(f"/applications/{application.id}/sections/aims", {
        "aims": "Ändrat", "version": "1"})
    [event] = events(application.id, "section.update")
    event.after = {"aims": "förfalskat"}
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(update(AuditEvent).values(action="x"))
    db.session.rollback()
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(delete(AuditEvent))
    db.session.rollback()
    assert events(application.id, "section.update")[0].after["aims"] == "Ändrat"


def test_deadline_extensions_are_recorded(app, world, login_as):
    application = world.new_application(state="approved", answers=FULL_ANSWERS)
    new_day = (world.call.deadline_at.astimezone(STOCKHOLM) + timedelta(days=30)).date()
    coordinator = login_as("coordinator@demo.test")
    response = coordinator.post(f"/applications/{application.id}/deadline", {
        "extension-new_date": new_day.isoformat(), "extension-new_time": "23:59",
        "extension-reason": "Styrelsen sammanträder sent"})
    assert response.status_code == 303
    [event] = events(application.id, "deadline.extend")
    assert event.actor_id == world.users["coordinator"].id
    assert event.before == {"deadline": world.call.deadline_at.isoformat()}
    assert event.after == {"deadline": from_local(new_day, time(23, 59)).isoformat(),
                           "reason": "Styrelsen sammanträder sent"}


def test_voided_vote_rounds_are_recorded(app, world, login_as):
    from grants.approvals.rounds import open_round
    application = world.new_application(state="steering_approval", answers=FULL_ANSWERS)
    first = open_round(application.id)
    old_fingerprint = first.fingerprint
    vote(login_as("steering1@demo.test"), application, "approve")
    assert login_as("lead@demo.test").post(f"/applications/{application.id}/sections/aims", {
        "aims": "Mål: 600 deltagare.", "version": "1"}).status_code == 303
    [event] = events(application.id, "steering.round_voided")
    assert event.actor_id == world.users["lead"].id
    assert event.before == {"round": 1, "fingerprint": old_fingerprint,
                            "votes": [{"user": world.users["steering1"].id,
                                       "choice": "approve"}]}
    second = open_round(application.id)
    assert event.after == {"round": 2, "fingerprint": second.fingerprint}


def test_downloads_of_submitted_uploads_are_recorded_drafts_are_not(app, world, login_as):
    import hashlib
    from datetime import date

    from grants.documents.models import Attachment
    from grants.submissions.models import FunderDecision, Submission
    application = world.new_application(answers=FULL_ANSWERS)
    uploads = []
    for name in ("cv.pdf", "beslut.pdf"):
        content = b"%PDF-" + name.encode()
        uploads.append(Attachment(application_id=application.id, field_id="cv",
                                  filename=name, kind="pdf", mime_type="application/pdf",
                                  size=len(content), sha256=hashlib.sha256(content).hexdigest(),
                                  content=content))
    db.session.add_all(uploads)
    db.session.commit()
    cv, letter = uploads
    lead = login_as("lead@demo.test")
    for upload in uploads:
        assert lead.get(f"/applications/{application.id}/attachments/{upload.id}"
                        ).status_code == 200
    assert events(application.id, "download.attachment") == []  # a draft's uploads
    snapshot = {"attachments": [{"attachment_id": cv.id, "sha256": cv.sha256}]}
    db.session.add(Submission(application_id=application.id, number=1, snapshot=snapshot,
                              sha256="s" * 64))
    db.session.add(FunderDecision(application_id=application.id, outcome="granted",
                                  granted_amount=1, decision_date=date(2027, 6, 1),
                                  letter_attachment_id=letter.id))
    db.session.commit()
    for upload in uploads:
        assert lead.get(f"/applications/{application.id}/attachments/{upload.id}"
                        ).status_code == 200
    recorded = events(application.id, "download.attachment")
    assert [e.after["attachment"] for e in recorded] == [cv.id, letter.id]
    assert recorded[0].after == {"attachment": cv.id, "field": "cv", "filename": "cv.pdf",
                                 "sha256": cv.sha256}
    assert recorded[0].actor_id == world.users["lead"].id


def test_audit_rows_are_written_at_commit_and_go_with_a_rollback(app, world):
    from grants.audit import audit
    audit("test.kept", actor_id=None, object_type="test", object_id=1)
    try:
        with db.session.begin_nested():  # a savepoint that fails, e.g. a concurrent render
            raise ValueError
    except ValueError:
        pass
    db.session.commit()
    audit("test.rolled_back", actor_id=None, object_type="test", object_id=2)
    db.session.rollback()
    db.session.commit()
    assert [e.action for e in events() if e.action.startswith("test.")] == ["test.kept"]

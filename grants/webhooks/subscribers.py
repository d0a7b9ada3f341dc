"""The events registry systems hear about, written as deliveries inside the sender's
transaction and sent after its commit."""

from __future__ import annotations

from grants import events
from grants.webhooks import payloads
from grants.webhooks.operations import record_event


@events.submission_frozen.connect(order=400)
def submitted(*, submission, application, actor) -> None:
    """An application's submission, or a report's (a report is an application row of another
    kind): `application.submitted` or `report.submitted`."""
    event_type = ("application.submitted" if application.kind == "application"
                  else "report.submitted")
    record_event(event_type, application.id, payloads.submitted(application, submission))


@events.decision_recorded.connect(order=400)
def decided(*, application, decision, submission, actor) -> None:
    record_event("decision.recorded", application.id,
                 payloads.decided(application, decision, submission))

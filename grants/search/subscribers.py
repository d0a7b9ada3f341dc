"""Search's subscribers: whatever changes what an application is found by rewrites its index
row, inside the same transaction (an operation that rolls back leaves the index as it was)."""

from __future__ import annotations

from grants import events
from grants.search.indexing import applications_naming, index_application


@events.application_created.connect(order=300)
def _index_new(*, application, **_):
    index_application(application)


@events.content_changed.connect(order=300)
def _index_changed(*, application, **_):
    index_application(application)


# After reporting (order 100) has started the project: its documents are indexed as they are
# created; this adds the funder's reference to the application.
@events.decision_recorded.connect(order=300)
def _index_decision(*, application, **_):
    index_application(application)


# A call, funder or organisation renamed by the administration: every application naming it.
@events.reference_renamed.connect(order=300)
def _index_renamed(*, kind, object_id, **_):
    for application in applications_naming(kind, object_id):
        index_application(application)

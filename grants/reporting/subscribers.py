"""Reporting's subscribers: a recorded grant starts the project."""

from __future__ import annotations

from grants import events
from grants.reporting.operations import start_project


@events.decision_recorded.connect
def _start_project(*, application, decision, submission, actor, **_):
    start_project(application=application, decision=decision, submission=submission,
                  actor=actor)

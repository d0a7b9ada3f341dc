"""Reminders follow applications and calls (connected at start-up)."""

from __future__ import annotations

from grants import events
from grants.deadlines.operations import schedule_call_reminders, schedule_reminders


@events.application_created.connect
def remind_before_the_new_applications_milestones(*, application, actor) -> None:
    schedule_reminders(application)


@events.call_deadlines_changed.connect
def reschedule_the_calls_reminders(*, call) -> None:
    schedule_call_reminders(call)

"""Delivery starts when a submission's copy of record exists (connected at start-up)."""

from __future__ import annotations

from grants import events
from grants.delivery.operations import start_delivery


@events.submission_archived.connect
def send_the_copy_of_record_to_the_funder(*, submission) -> None:
    """By email, or for the lead to upload in the funder's portal. Idempotent: one delivery
    per submission and channel."""
    start_delivery(submission)

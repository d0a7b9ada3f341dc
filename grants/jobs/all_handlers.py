"""Imports every module that registers a background job handler (or, like the deadline
reminders, is an entry point RQ calls by name), so a worker loads them before it forks."""

from grants.documents import rendering  # noqa: F401
from grants.notifications import mail  # noqa: F401
from grants.approvals import minutes  # noqa: F401
from grants.deadlines import reminders  # noqa: F401
from grants.delivery import jobs as delivery_jobs  # noqa: F401
from grants.admin import previews as form_previews  # noqa: F401

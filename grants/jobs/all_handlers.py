"""Imports every module that registers a background job handler."""

from grants.documents import rendering  # noqa: F401
from grants.notifications import mail  # noqa: F401

"""Refusals an operation raises; views turn them into translated messages."""

from __future__ import annotations


class OperationRefused(Exception):
    """The operation cannot be done; `message` is already translated for the user."""

    def __init__(self, message: str, *, details: list[str] | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or []


class FieldsRefused(OperationRefused):
    """Values that fail a rule only the server can check (file content, table rows)."""

    def __init__(self, message: str, *, field_errors: dict[str, list[str]]):
        super().__init__(message)
        self.field_errors = field_errors


class StaleEdit(OperationRefused):
    """Someone else saved this section since the form was loaded."""

    def __init__(self, message: str, *, current: dict, current_version: int, updated_by: str):
        super().__init__(message)
        self.current = current
        self.current_version = current_version
        self.updated_by = updated_by


class StaleState(OperationRefused):
    """The application's state changed since the page was loaded."""

from __future__ import annotations

from wtforms import HiddenField

from grants.formengine.base import AppForm


class RestoreForm(AppForm):
    """Restore a kept version: carries the section's version the page showed, so a save by
    someone else in between is caught (as on the edit page)."""
    version = HiddenField()


class PresenceForm(AppForm):
    """The edit page's "I am still here" and "I have left" (CSRF-checked like every POST)."""

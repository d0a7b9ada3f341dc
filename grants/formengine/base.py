"""The base of every WTForms form of the app (FlaskForm with CSRF). Hidden inputs render
without an id: several forms share a page (the application page has a dozen), and an id such
as `csrf_token` or `state_version` would then appear many times (WCAG 4.1.1). Nothing refers
to a hidden input by id; it is found by its name."""

from __future__ import annotations

from flask_wtf import FlaskForm

HIDDEN = ("HiddenField", "CSRFTokenField")


class AppForm(FlaskForm):
    class Meta(FlaskForm.Meta):
        def render_field(self, field, render_kw):
            if field.type in HIDDEN:
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)

"""The one place that knows every feature of the app (start-up layer).

Each feature lives in its own folder and registers its own parts when its modules are
imported: guards and effects that workflow files name (`guards.py`, `effects.py`), background
job handlers and sweepers (`jobs.py`, `reminders.py`, …), subscribers to domain events
(`subscribers.py`), parts of the copy of record, and its blueprint (`views.py`). Importing this
module imports them all, in the order below; the app factory, the worker and the definition
loader rely on that."""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from grants import about
from grants.accounts import views as accounts_views
from grants.admin import previews as admin_previews
from grants.admin import views as admin_views
from grants.applications import guards as applications_guards
from grants.applications import subscribers as applications_subscribers
from grants.applications import views as applications_views
from grants.approvals import effects as approvals_effects
from grants.approvals import minutes as approvals_minutes
from grants.approvals import seen as approvals_seen
from grants.approvals import subscribers as approvals_subscribers
from grants.approvals import views as approvals_views
from grants.budget import guards as budget_guards
from grants.budget import views as budget_views
from grants.collaboration import subscribers as collaboration_subscribers
from grants.collaboration import views as collaboration_views
from grants.comments import records as comments_records
from grants.comments import views as comments_views
from grants.dashboard import views as dashboard_views
from grants.deadlines import guards as deadlines_guards
from grants.deadlines import reminders as deadlines_reminders
from grants.deadlines import subscribers as deadlines_subscribers
from grants.deadlines import views as deadlines_views
from grants.definitions import views as definitions_views
from grants.delivery import sending as delivery_sending
from grants.delivery import subscribers as delivery_subscribers
from grants.delivery import views as delivery_views
from grants.documents import rendering as documents_rendering
from grants.notifications import digest as notifications_digest
from grants.notifications import mail as notifications_mail
from grants.notifications import views as notifications_views
from grants.partners import guards as partners_guards
from grants.partners import seen as partners_seen
from grants.partners import subscribers as partners_subscribers
from grants.partners import views as partners_views
from grants.portfolio import views as portfolio_views
from grants.reporting import guards as reporting_guards
from grants.reporting import subscribers as reporting_subscribers
from grants.reporting import views as reporting_views
from grants.reuse import views as reuse_views
from grants.search import subscribers as search_subscribers
from grants.search import views as search_views
from grants.submissions import archive as submissions_archive
from grants.submissions import guards as submissions_guards
from grants.submissions import seen as submissions_seen
from grants.submissions import views as submissions_views
from grants.webhooks import sending as webhooks_sending
from grants.webhooks import subscribers as webhooks_subscribers
from grants.webhooks import views as webhooks_views


@dataclass(frozen=True)
class Feature:
    name: str
    # Modules that register guards, effects, job handlers, sweepers or subscribers.
    registers: tuple[ModuleType, ...] = ()
    # The module holding the feature's blueprint `bp`, if it has pages.
    views: ModuleType | None = None


FEATURES: tuple[Feature, ...] = (
    Feature("about", views=about),
    Feature("accounts", views=accounts_views),
    Feature("notifications", (notifications_mail, notifications_digest),
            notifications_views),
    Feature("definitions", views=definitions_views),
    Feature("documents", (documents_rendering,)),
    Feature("applications", (applications_guards, applications_subscribers),
            applications_views),
    Feature("budget", (budget_guards,), budget_views),
    Feature("partners", (partners_guards, partners_subscribers, partners_seen), partners_views),
    Feature("collaboration", (collaboration_subscribers,), collaboration_views),
    Feature("approvals", (approvals_effects, approvals_minutes, approvals_subscribers,
                          approvals_seen),
            approvals_views),
    Feature("deadlines", (deadlines_guards, deadlines_reminders, deadlines_subscribers),
            deadlines_views),
    Feature("submissions", (submissions_guards, submissions_archive, submissions_seen),
            submissions_views),
    Feature("comments", (comments_records,), comments_views),
    Feature("delivery", (delivery_sending, delivery_subscribers), delivery_views),
    Feature("reporting", (reporting_guards, reporting_subscribers), reporting_views),
    Feature("admin", (admin_previews,), admin_views),
    Feature("portfolio", views=portfolio_views),
    Feature("dashboard", views=dashboard_views),
    Feature("reuse", views=reuse_views),
    Feature("search", (search_subscribers,), search_views),
    Feature("webhooks", (webhooks_sending, webhooks_subscribers), webhooks_views),
)


def blueprints() -> list:
    """Every feature's blueprint, in the order of FEATURES."""
    return [feature.views.bp for feature in FEATURES if feature.views is not None]

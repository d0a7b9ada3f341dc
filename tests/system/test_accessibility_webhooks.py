"""The webhooks' administration pages in a real browser with axe-core: no serious or critical
WCAG violations, in Swedish and in English, with and without form errors; photographed at 1280
and 320 px (test-artifacts/)."""

import pytest
from sqlalchemy import select

from grants.db import db
from grants.webhooks import operations
from grants.webhooks.models import WebhookDelivery, WebhookEndpoint
from grants.webhooks.sending import attempt_webhook
from tests.features.webhooks.conftest import receiver  # noqa: F401 - the fixture
from tests.system.test_accessibility import check, set_language


@pytest.mark.parametrize("language", ["sv", "en"])
def test_webhook_pages_have_no_serious_accessibility_violations(app, world, visitor,
                                                                receiver,  # noqa: F811
                                                                language):
    set_language(world, language)
    app.config["WEBHOOK_MAX_ATTEMPTS"] = 1
    endpoint, _secret = operations.create_endpoint(
        url=receiver.at("/hook"), description="Diariet", events=["application.submitted"],
        active=True, actor=world.user("coordinator"))
    receiver.statuses, receiver.answer = [500], b"<html>Internal error</html>"
    operations.send_test_event(endpoint, actor=world.user("coordinator"))
    delivery = db.session.scalars(select(WebhookDelivery)).one()
    attempt_webhook(delivery.id)
    operations.send_test_event(db.session.get(WebhookEndpoint, endpoint.id),
                               actor=world.user("coordinator"))
    attempt_webhook(db.session.scalars(select(WebhookDelivery.id).order_by(
        WebhookDelivery.id.desc())).first())
    found: dict[str, list[str]] = {}
    for width in (1280, 320):
        coordinator = visitor(locale="sv-SE" if language == "sv" else "en-GB", width=width)
        coordinator.login("coordinator@demo.test")
        check(coordinator.goto("/admin/webhooks/"), "list", found)
        coordinator.shot(f"list-{language}-{width}")
        check(coordinator.goto(f"/admin/webhooks/{endpoint.id}"), "endpoint", found)
        coordinator.shot(f"endpoint-{language}-{width}")
        check(coordinator.goto(f"/admin/webhooks/{endpoint.id}/edit"), "edit", found)
        check(coordinator.goto("/admin/webhooks/new"), "new", found)
        coordinator.page.fill("#url", "ftp://diariet")
        with coordinator.page.expect_navigation():
            coordinator.page.click("main form button[type=submit]")
        check(coordinator.page, "new with errors", found)
        coordinator.shot(f"new-errors-{language}-{width}")
        if width == 1280:
            coordinator.page.fill("#url", receiver.at("/other"))
            coordinator.page.check("input[name=events][value='decision.recorded']")
            with coordinator.page.expect_navigation():
                coordinator.page.click("main form button[type=submit]")
            check(coordinator.page, "secret shown once", found)
            coordinator.shot(f"secret-{language}-{width}")
    assert not found, found

"""The pages of starting from an earlier application, in a real browser with axe-core: no
serious or critical WCAG violations, in Swedish and in English, with and without errors; the
pages are photographed at 1280 and 320 px (test-artifacts/)."""

import pytest

from tests.features.reuse.conftest import setting  # noqa: F401 - the fixture
from tests.system.test_accessibility import check, set_language


@pytest.mark.parametrize("language", ["sv", "en"])
def test_copy_pages_have_no_serious_accessibility_violations(world, setting, visitor,  # noqa: F811
                                                             language):
    set_language(world, language)
    found: dict[str, list[str]] = {}
    source = setting.source.id
    for width in (1280, 320):
        lead = visitor(locale="sv-SE" if language == "sv" else "en-GB", width=width)
        lead.login("lead@demo.test")
        check(lead.goto("/applications/reuse"), "start", found)
        lead.shot(f"start-{language}-{width}")
        with lead.page.expect_navigation():                    # nothing chosen: errors
            lead.page.click("main form button[type=submit]")
        check(lead.page, "start with errors", found)
        lead.shot(f"start-errors-{language}-{width}")
        check(lead.goto(f"/applications/{source}/copy"), "copy step 1", found)
        check(lead.goto(f"/applications/{source}/copy?call={setting.closed.id}"),
              "copy to a closed call", found)
        lead.shot(f"closed-{language}-{width}")
        check(lead.goto(f"/applications/{source}/copy?call={setting.region.id}&title=Ny"),
              "preview", found)
        lead.shot(f"preview-{language}-{width}")
        if width == 1280:
            with lead.page.expect_navigation():
                lead.page.click("form.copy-preview button[type=submit]")
            check(lead.page, "result", found)
            lead.shot(f"result-{language}-{width}")
        check(lead.goto(f"/applications/{source}"), "overview with the linked panel", found)
        lead.shot(f"overview-{language}-{width}")
    assert not found, found

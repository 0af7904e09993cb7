"""End to end in headless Chromium (playwright-core) against the real backend.

Each scenario is a Node test file beside this one; screenshots of each screen land in
test-results/e2e/.
"""

import pytest


@pytest.mark.parametrize(
    "spec",
    [
        "chat.test.mjs",
        "resume.test.mjs",
        "stop.test.mjs",
        "approvals.test.mjs",
        "branches.test.mjs",
        "factoids.test.mjs",
        "budget.test.mjs",
        "account.test.mjs",
        "thumbnails.test.mjs",
    ],
)
def test_browser_scenario(run_spec, spec):
    run_spec(spec)


def test_channel_analytics_from_the_shared_csv(run_spec, shared_data):
    run_spec("channels.test.mjs")


def test_the_agent_works_on_the_creators_workspace(run_spec, shared_data):
    run_spec("workspace.test.mjs")

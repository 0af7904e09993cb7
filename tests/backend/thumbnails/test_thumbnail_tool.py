"""The agent's ``thumbnail`` tool in a chat run: each concept kept for the client as it is
made, with progress per concept; a paid image is reserved and settled by the guard and
recorded like a model call (ledger row attributed to the run, the run's cost, its usage
event, PostHog's ``$ai_generation``); with a network provider the call runs on the
``long`` queue (a real Celery worker); a paid image counts in an approval's estimate."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from agents.guard import ModelPrice
from agents.tools import TOOLS_BY_NAME
from backend.chat.approvals import ApprovalPolicy, approval_policy_for
from backend.chat.tool_calls import offloads
from backend.guard.instance import reset_for_tests as reset_guard
from backend.guard.models import LlmCall
from backend.runs.eventlog import reset_for_tests
from backend.runs.models import Run
from backend.thumbnails.models import Thumbnail
from tests.backend.runs.helpers import collect, logged_events
from tests.conftest import wait_for
from tests.fakes.image_servers import PredictionScript, ReplicateServer

REQUEST = "Make thumbnails for “Latte art in 60 seconds”"
OFFLINE = ModelPrice(
    model_id="offline", input_per_token=Decimal(0), output_per_token=Decimal(0), offline=True
)


@pytest.fixture
def replicate(env):
    server = ReplicateServer().start()
    env(
        REPLICATE_API_TOKEN=server.api_token,
        REPLICATE_BASE_URL=server.base_url,
        REPLICATE_PRICE_PER_IMAGE_USD="0.003",
        POLLINATIONS_ENABLED=False,
        THUMBNAIL_PROVIDER_TIMEOUT_S=5,
    )
    yield server
    server.stop()


def _chat(client, content: str) -> dict[str, Any]:
    session = client.post("/api/chat/sessions/", {}, format="json").json()
    response = client.post(
        f"/api/chat/sessions/{session['id']}/messages/", {"content": content}, format="json"
    )
    assert response.status_code == 202, response.content
    return response.json()


def _finished(run_id: str) -> Run:
    run = wait_for(
        lambda: Run.objects.filter(pk=run_id, status__in=Run.TERMINAL).first(), timeout=60
    )
    assert run is not None and run.status == "completed", run and run.error_message
    return run


def _events(run_id: str, kind: str) -> list[dict[str, Any]]:
    return [e.data for e in logged_events(run_id) if e.type == kind]


@pytest.mark.django_db(transaction=True)
class TestInAnEmbeddedRun:
    @pytest.fixture(autouse=True)
    def embedded(self, settings, thumbnail_files, never_ask):
        settings.TASK_RUNNER = "thread"
        reset_for_tests()
        reset_guard()
        yield
        reset_for_tests()
        reset_guard()

    def test_offline_concepts_are_kept_listed_and_labelled(self, anon_client) -> None:
        body = _chat(anon_client, REQUEST)
        run = _finished(body["run_id"])

        [completed] = _events(body["run_id"], "tool.completed")
        assert completed["name"] == "thumbnail"
        ids = [t["thumbnail_id"] for t in completed["output"]["thumbnails"]]
        assert len(ids) == 3
        progress = [(p["done"], p["total"]) for p in _events(body["run_id"], "tool.progress")]
        assert progress == [(0, 3), (1, 3), (2, 3), (3, 3)]
        # Kept for the run's client, each with its file; the gallery lists them.
        rows = Thumbnail.objects.filter(client_id=run.client_id)
        assert {str(t.id) for t in rows} == set(ids)
        assert {(t.provider, t.offline, t.title) for t in rows} == {
            ("offline", True, "Latte art in 60 seconds")
        }
        listed = anon_client.get("/api/thumbnails/").json()["results"]
        assert {t["id"] for t in listed} == set(ids)
        image = anon_client.get(listed[0]["url"])
        assert image.status_code == 200 and image["Content-Type"] == "image/png"
        # No paid image, no ledger row; the answer says what made them.
        assert not LlmCall.objects.filter(feature="tool:thumbnail").exists()
        assert "not AI images" in completed["output"]["note"]

    def test_a_paid_image_is_a_ledger_row_of_the_run_and_a_generation_in_posthog(
        self, anon_client, replicate, posthog_server
    ) -> None:
        replicate.script([PredictionScript.succeed() for _ in range(3)])

        body = _chat(anon_client, REQUEST)
        run = _finished(body["run_id"])

        rows = list(Thumbnail.objects.filter(client_id=run.client_id))
        assert len(rows) == 3 and {t.provider for t in rows} == {"replicate"}
        assert {t.cost_usd for t in rows} == {Decimal("0.003")}
        calls = list(LlmCall.objects.filter(run_id=body["run_id"], feature="tool:thumbnail"))
        assert len(calls) == 3
        assert {c.model for c in calls} == {"image:replicate:black-forest-labs/flux-schnell"}
        assert sum(c.cost_usd for c in calls) == Decimal("0.009")
        run.refresh_from_db()
        assert run.cost_usd == sum(
            (c.cost_usd for c in LlmCall.objects.filter(run_id=body["run_id"])), Decimal(0)
        ) == Decimal("0.009")  # fmt: skip
        usage = _events(body["run_id"], "usage")
        assert Decimal(usage[-1]["run_cost_usd"]) == Decimal("0.009")
        generations = [
            e for e in posthog_server.wait_for("$ai_generation", count=3)
            if e["properties"]["$ai_span_name"] == "tool:thumbnail"
        ]  # fmt: skip
        assert len(generations) == 3
        assert {g["properties"]["$ai_provider"] for g in generations} == {"replicate"}
        assert {g["properties"]["$ai_total_cost_usd"] for g in generations} == {0.003}
        assert {g["properties"]["$ai_trace_id"] for g in generations} == {body["run_id"]}

    def test_a_failed_paid_image_is_released_and_recorded_as_an_error(
        self, anon_client, replicate
    ) -> None:
        replicate.script([PredictionScript.fail(), PredictionScript.succeed(),
                          PredictionScript.succeed()])  # fmt: skip

        body = _chat(anon_client, REQUEST)
        run = _finished(body["run_id"])

        providers = sorted(
            Thumbnail.objects.filter(client_id=run.client_id).values_list("provider", flat=True)
        )
        assert providers == ["offline", "replicate", "replicate"]  # the first fell back
        calls = LlmCall.objects.filter(run_id=body["run_id"], feature="tool:thumbnail")
        assert sorted((c.is_error, c.cost_usd) for c in calls) == [
            (False, Decimal("0.003")), (False, Decimal("0.003")), (True, Decimal(0))
        ]  # fmt: skip


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_with_a_network_provider_the_call_runs_on_the_long_queue(
    settings, anon_client, replicate, never_ask, celery_worker_factory, tmp_path
) -> None:
    settings.TASK_RUNNER = "celery"
    reset_for_tests()
    files = tmp_path / "data"
    settings.STORAGES = {
        **settings.STORAGES,
        "thumbnails": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(files / "thumbnails")},
        },
    }
    replicate.script([PredictionScript.succeed_after(1) for _ in range(2)])
    worker_env = {
        "REPLICATE_API_TOKEN": replicate.api_token,
        "REPLICATE_BASE_URL": replicate.base_url,
        "REPLICATE_PRICE_PER_IMAGE_USD": "0.003",
        "THUMBNAIL_PROVIDER_TIMEOUT_S": "5",
        "DATA_DIR": str(files),
    }
    runs = celery_worker_factory(queues="default", pool="threads", extra_env=worker_env)
    tools = celery_worker_factory(queues="long", pool="threads", extra_env=worker_env)

    body = _chat(anon_client, "Make 2 thumbnails for “Latte art in 60 seconds”")
    frames = asyncio.run(collect(body["stream_url"], timeout=90))

    assert frames[-1]["event"] == "run.completed", frames[-1]
    received = "Task backend.runs.tasks.tool_execute["
    assert received in tools.log() and received not in runs.log()
    [completed] = [f["payload"]["data"] for f in frames if f["event"] == "tool.completed"]
    ids = {t["thumbnail_id"] for t in completed["output"]["thumbnails"]}
    progress = [f["payload"]["data"] for f in frames if f["event"] == "tool.progress"]
    assert [p["done"] for p in progress][-1] == len(ids)
    listed = anon_client.get("/api/thumbnails/").json()["results"]
    assert {t["id"] for t in listed} == ids and {t["provider"] for t in listed} == {"replicate"}
    assert anon_client.get(listed[0]["url"]).status_code == 200  # the worker's file
    calls = LlmCall.objects.filter(run_id=body["run_id"], feature="tool:thumbnail")
    assert calls.count() == len(ids)
    reset_for_tests()


def test_the_count_argument_is_read_from_the_request() -> None:
    from agents.offline_planner import plan_calls

    [call] = plan_calls("Make 2 thumbnails for “Latte art”", available=set(TOOLS_BY_NAME))
    assert call.args == {"title": "Latte art", "count": 2}


@pytest.mark.parametrize(
    ("runner", "mode", "network", "expected"),
    [
        ("celery", "auto", False, False),  # the offline card is drawn inline
        ("celery", "auto", True, True),
        ("celery", "always", False, True),
        ("celery", "never", True, False),
        ("thread", "auto", True, False),  # embedded: always inline
    ],
)
def test_which_thumbnail_calls_leave_the_run(settings, env, runner, mode, network, expected):
    settings.TASK_RUNNER = runner
    env(TOOL_OFFLOAD=mode, REPLICATE_API_TOKEN="r8_x" if network else None,
        POLLINATIONS_ENABLED=False)  # fmt: skip
    assert offloads(tool_name="thumbnail", price=OFFLINE) is expected


@pytest.mark.django_db
def test_paid_images_count_in_an_approvals_estimate(env) -> None:
    tool = TOOLS_BY_NAME["thumbnail"]
    env(REPLICATE_API_TOKEN="r8_x", REPLICATE_PRICE_PER_IMAGE_USD="0.05")
    policy = ApprovalPolicy(
        mode="costly", threshold_usd=Decimal("0.10"), price=OFFLINE, youtube_units_limit=1000
    )
    assert policy.estimate(tool, {"title": "x"})["paid_images"] == 3
    assert policy.estimate(tool, {"title": "x"})["worst_case_usd"] == pytest.approx(0.15)
    assert policy.estimate(tool, {"title": "x", "count": 1})["worst_case_usd"] == 0.05
    # The offline chat model no longer means "nothing to ask" when images are paid.
    run = Run(client_id="anonymous-x", model="offline", input={})
    assert approval_policy_for(run, price=OFFLINE) is not None
    env(REPLICATE_API_TOKEN=None)
    assert approval_policy_for(run, price=OFFLINE) is None
    assert "paid_images" not in policy.estimate(tool, {"title": "x"})

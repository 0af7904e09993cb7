"""A slow webhook target cannot hold a worker slot: each attempt has a total deadline,
and deliveries (like emails) run on their own queue and pool, away from the runs."""

from __future__ import annotations

import pytest

from backend.chat import webhooks
from backend.chat.models import ChatSession, WebhookDelivery
from backend.chat.services import webhook_attempt
from tests.fakes.drip_server import DripServer

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


@pytest.fixture
def dripping_target():
    # One byte every 0.5 s: each read is far inside httpx's 10 s timeout, the whole
    # response takes 19 s, far beyond the test's 2 s deadline.
    server = DripServer(OK, interval_s=0.5).start()
    yield server
    server.stop()


@pytest.mark.django_db
def test_a_dripping_target_fails_at_the_deadline_and_is_retried(
    settings, env, monkeypatch, dripping_target
):
    settings.DEBUG = True  # plain http to localhost
    env(WEBHOOK_DEADLINE_S=2)
    session = ChatSession.objects.create(
        client_id="c", model="offline", webhook_url=dripping_target.url, webhook_secret="s"
    )
    delivery = WebhookDelivery.objects.create(
        session=session,
        run_id="00000000-0000-0000-0000-000000000003",
        url=dripping_target.url,
        payload={"type": "run.completed"},
    )
    scheduled = []
    monkeypatch.setattr(
        "backend.core.task_runner.enqueue", lambda task, *a, **kw: scheduled.append((a, kw))
    )
    webhook_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    # The existing retry policy: still pending, the next attempt in 2 s.
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, None)
    assert delivery.last_error.startswith("DeliveryDeadline: no complete response within 2 s")
    assert scheduled == [((delivery.pk,), {"countdown": 2.0})]
    [connection] = dripping_target.connections
    assert connection.done.wait(timeout=10)
    # The client hung up mid-response; the target had more to send.
    assert connection.hung_up and not connection.finished
    assert connection.sent < len(OK)


def test_the_deadline_covers_the_whole_exchange(settings, dripping_target):
    settings.DEBUG = True
    with pytest.raises(webhooks.DeliveryDeadline):
        webhooks.deliver(url=dripping_target.url, secret="s", payload={}, deadline_s=1)


def test_a_prompt_target_is_delivered_within_the_deadline(settings):
    settings.DEBUG = True
    quick = DripServer(OK, interval_s=0).start()
    try:
        assert webhooks.deliver(url=quick.url, secret="s", payload={}, deadline_s=5) == 200
    finally:
        quick.stop()


def test_deliveries_and_emails_go_to_the_outbound_queue():
    from backend.config.celery_app import app

    router = app.amqp.router
    for task in ("backend.chat.tasks.webhook_deliver", "backend.accounts.tasks.send_email"):
        assert router.route({}, task)["queue"].name == "outbound", task
    assert router.route({}, "backend.runs.tasks.run_execute")["queue"].name == "default"


def test_the_worker_serves_outbound_with_its_own_small_pool():
    from backend.cli import build_parser, worker_commands

    opts = build_parser().parse_args(["worker"])
    commands = worker_commands(
        queues=opts.queues,
        pool=opts.pool,
        concurrency=opts.concurrency,
        long_concurrency=opts.long_concurrency,
        outbound_concurrency=opts.outbound_concurrency,
    )
    by_queue = {command[command.index("-Q") + 1]: command for command in commands}
    assert set(by_queue) == {"default", "long", "outbound"}
    assert "--concurrency=4" in by_queue["outbound"]
    assert "--concurrency=16" in by_queue["default"]


def test_render_runs_the_outbound_queue():
    from backend.config.env import REPO_ROOT

    text = (REPO_ROOT / "render.yaml").read_text()
    [command] = [line for line in text.splitlines() if "insightstream worker" in line]
    assert "--queues default,long,outbound" in command


@pytest.mark.django_db(transaction=True)
def test_embedded_runner_keeps_outbound_tasks_off_the_runs_threads(settings, monkeypatch):
    import threading

    from backend.chat.tasks import webhook_deliver
    from backend.core import task_runner
    from backend.core.tasks import worker_heartbeat

    settings.TASK_RUNNER = "thread"
    threads: dict[str, str] = {}

    def record(task, *args):
        threads[task.name] = threading.current_thread().name

    monkeypatch.setattr(task_runner, "_run_local", record)
    task_runner.enqueue(webhook_deliver, 1)
    task_runner.enqueue(worker_heartbeat)
    task_runner.drain()
    assert threads[webhook_deliver.name].startswith("task-outbound")
    assert threads[worker_heartbeat.name].startswith("task-default")


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_delivery_goes_through_redis_to_the_outbound_worker(settings, celery_worker_factory):
    """Only an outbound worker runs: the delivery reaches it by its route alone."""
    from backend.chat.tasks import webhook_deliver
    from backend.core import task_runner
    from tests.backend.chat.test_webhooks import Receiver
    from tests.conftest import wait_for

    settings.TASK_RUNNER = "celery"
    receiver = Receiver(statuses=[204])
    session = ChatSession.objects.create(
        client_id="c", model="offline", webhook_url=receiver.url, webhook_secret="s"
    )
    delivery = WebhookDelivery.objects.create(
        session=session,
        run_id="00000000-0000-0000-0000-000000000004",
        url=receiver.url,
        payload={"type": "run.completed"},
    )
    worker = celery_worker_factory(queues="outbound", extra_env={"DEBUG": "true"})
    task_runner.enqueue(webhook_deliver, delivery.pk)
    wait_for(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == "delivered", timeout=30)
    assert len(receiver.requests) == 1
    assert "backend.chat.tasks.webhook_deliver" in worker.log()

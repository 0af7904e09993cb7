import ipaddress
import json
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import trustme

from backend.chat import webhooks
from backend.chat.models import ChatSession, WebhookDelivery
from backend.chat.services import session_set_webhook, webhook_attempt
from backend.core.errors import ValidationError


class Receiver:
    def __init__(self, statuses: list[int], tls: ssl.SSLContext | None = None) -> None:
        self.requests: list[tuple[dict, bytes]] = []
        statuses_left = list(statuses)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                self.send_response(statuses_left.pop(0) if statuses_left else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://localhost:{self.httpd.server_address[1]}/hook"


def test_signature_round_trip_and_tamper():
    body = b'{"a":1}'
    header = webhooks.sign(secret="whsec_x", body=body, timestamp=int(time.time()))
    assert header.startswith("t=") and ",v1=" in header
    assert webhooks.verify(secret="whsec_x", body=body, header=header)
    assert not webhooks.verify(secret="whsec_x", body=b'{"a":2}', header=header)
    assert not webhooks.verify(secret="other", body=body, header=header)
    stale = webhooks.sign(secret="whsec_x", body=body, timestamp=int(time.time()) - 3600)
    assert not webhooks.verify(secret="whsec_x", body=body, header=stale)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/hook",  # not https
        "https://127.0.0.1/hook",  # loopback
        "https://10.1.2.3/hook",  # private
        "https://192.168.0.1/hook",
        "https://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
        "https://[::1]/hook",
        "https://localhost/hook",
    ],
)
def test_private_and_plain_targets_are_refused(url, settings):
    settings.DEBUG = False
    with pytest.raises(webhooks.UnsafeTarget):
        webhooks.check_target(url)


def test_plain_http_to_localhost_only_when_debug(settings):
    settings.DEBUG = True
    webhooks.check_target("http://localhost:9999/hook")
    with pytest.raises(webhooks.UnsafeTarget):
        webhooks.check_target("http://10.0.0.1/hook")


@pytest.mark.django_db
def test_setting_a_private_webhook_names_the_field(settings):
    settings.DEBUG = False
    session = ChatSession.objects.create(client_id="c", model="offline")
    with pytest.raises(ValidationError) as info:
        session_set_webhook(session=session, url="https://10.0.0.5/x")
    assert "webhook_url" in info.value.details["fields"]


@pytest.mark.django_db
def test_delivery_is_signed_retried_and_recorded(settings, monkeypatch):
    settings.DEBUG = True
    receiver = Receiver(statuses=[500, 200])
    session = ChatSession.objects.create(client_id="c", model="offline")
    secret = session_set_webhook(session=session, url=receiver.url)
    delivery = WebhookDelivery.objects.create(
        session=session,
        run_id="00000000-0000-0000-0000-000000000001",
        url=receiver.url,
        payload={"type": "run.completed"},
    )
    scheduled = []
    monkeypatch.setattr(
        "backend.core.task_runner.enqueue", lambda task, *a, **kw: scheduled.append(kw)
    )
    webhook_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert scheduled == [{"countdown": 2.0}]
    webhook_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    headers, body = receiver.requests[-1]
    assert json.loads(body) == {"type": "run.completed"}
    assert webhooks.verify(secret=secret, body=body, header=headers["X-InsightStream-Signature"])


@pytest.mark.django_db
def test_rebinding_to_private_address_is_refused_at_delivery(settings, monkeypatch):
    settings.DEBUG = False
    session = ChatSession.objects.create(
        client_id="c",
        model="offline",
        webhook_url="https://hooks.example.com/x",
        webhook_secret="s",
    )
    delivery = WebhookDelivery.objects.create(
        session=session,
        run_id="00000000-0000-0000-0000-000000000002",
        url=session.webhook_url,
        payload={},
    )
    # The name now resolves to a private address.
    monkeypatch.setattr(
        webhooks,
        "resolve",
        lambda *a, **k: [(None, None, None, None, ("10.0.0.7", 443))],
    )
    webhook_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert "non-public" in delivery.last_error


def test_pinned_request_keeps_the_name_for_host_and_tls():
    assert webhooks.pinned("https://hooks.example.com/x?a=1", "93.184.216.34") == (
        "https://93.184.216.34/x?a=1",
        {"Host": "hooks.example.com"},
        {"sni_hostname": "hooks.example.com"},
    )
    assert webhooks.pinned("https://hooks.example.com:8443/x", "2606:2800:220:1::1") == (
        "https://[2606:2800:220:1::1]:8443/x",
        {"Host": "hooks.example.com:8443"},
        {"sni_hostname": "hooks.example.com"},
    )


def test_delivery_connects_to_the_vetted_address_and_verifies_the_name(settings, monkeypatch):
    # "hooks.example.test" exists in no DNS: the delivery reaches the receiver only through
    # the address the check vetted (standing in 127.0.0.1 as a public one), with TLS
    # checking the certificate against the name, not the address.
    settings.DEBUG = False
    authority = trustme.CA()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("hooks.example.test").configure_cert(server_tls)
    receiver = Receiver(statuses=[204], tls=server_tls)
    port = receiver.httpd.server_address[1]
    vetted = []

    def resolve(host, port_):
        vetted.append(host)
        return [(None, None, None, None, ("127.0.0.1", port_))]

    monkeypatch.setattr(webhooks, "resolve", resolve)
    monkeypatch.setattr(webhooks, "is_public", lambda a: a == ipaddress.ip_address("127.0.0.1"))
    client_tls = ssl.create_default_context()
    authority.configure_trust(client_tls)
    status = webhooks.deliver(
        url=f"https://hooks.example.test:{port}/hook",
        secret="s",
        payload={"type": "run.completed"},
        verify=client_tls,
    )
    assert status == 204
    assert vetted == ["hooks.example.test"]
    headers, body = receiver.requests[-1]
    assert headers["Host"] == f"hooks.example.test:{port}"
    assert json.loads(body) == {"type": "run.completed"}

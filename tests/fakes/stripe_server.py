"""A local Stripe API for the few endpoints InsightStream calls, so the real ``stripe``
client runs against it over HTTP (``StripeClient(base_addresses={"api": server.url})``).

Speaks Stripe's wire format: form-encoded request bodies with bracketed keys
(``line_items[0][price]=...``, ``metadata[account_id]=...``), JSON objects with ``id`` and
``object``, errors as ``{"error": {"type", "message", "param"}}`` with Stripe's status
codes, ``Authorization: Bearer sk_...`` required, and idempotency keys: a repeated
``Idempotency-Key`` replays the first response, or answers 400 ``idempotency_error`` when
the parameters differ, as Stripe does.

Endpoints: ``POST /v1/customers``, ``POST /v1/checkout/sessions``,
``GET /v1/checkout/sessions/{id}``, ``POST /v1/billing_portal/sessions``,
``GET /v1/payment_intents/{id}``, ``GET /v1/charges/{id}``, ``GET /v1/prices/{id}``.
Tests play the buyer with ``complete_session``.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key")


@dataclass
class FakePrice:
    price_id: str
    unit_amount: int
    currency: str = "usd"
    recurring: bool = False


class StripeApiError(Exception):
    def __init__(self, status: int, message: str, *, param: str | None = None, kind: str = ""):
        super().__init__(message)
        self.status, self.message, self.param = status, message, param
        self.kind = kind or "invalid_request_error"


def _new_id(prefix: str) -> str:
    return f"{prefix}_test_{secrets.token_hex(12)}"


def parse_form(body: str) -> dict[str, Any]:
    """Stripe's bracketed form encoding to nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following = None if last else parts[index + 1]
            container_for_next: Any = [] if following is not None and following.isdigit() else {}
            if isinstance(node, list):
                position = int(part)
                while len(node) <= position:
                    node.append(None)
                if last:
                    node[position] = value
                else:
                    if node[position] is None:
                        node[position] = container_for_next
                    node = node[position]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, container_for_next)
    return root


@dataclass
class StripeServer:
    api_key: str = "sk_test_insightstream"
    prices: dict[str, FakePrice] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._idempotent: dict[str, tuple[str, dict[str, Any], int, dict[str, Any]]] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self, "GET")

            def do_POST(self) -> None:
                server._handle(self, "POST")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StripeServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- what tests do -----------------------------------------------------------------

    def add_price(
        self, price_id: str, *, unit_amount: int, recurring: bool = False, currency: str = "usd"
    ) -> None:
        self.prices[price_id] = FakePrice(price_id, unit_amount, currency, recurring)

    def complete_session(self, session_id: str, *, payment_status: str = "paid") -> dict[str, Any]:
        """The buyer pays: the session completes with a payment intent or a subscription."""
        with self._lock:
            session = self.sessions[session_id]
            session["status"] = "complete"
            session["payment_status"] = payment_status
            if session["mode"] == "payment":
                intent_id = _new_id("pi")
                session["payment_intent"] = intent_id
                intent_data = session.get("_payment_intent_data") or {}
                self.payment_intents[intent_id] = {
                    "id": intent_id,
                    "object": "payment_intent",
                    "amount": session["amount_total"],
                    "currency": session["currency"],
                    "customer": session["customer"],
                    "metadata": intent_data.get("metadata") or {},
                    "status": "succeeded" if payment_status == "paid" else "processing",
                }
            else:
                session["subscription"] = _new_id("sub")
            return json.loads(json.dumps(session))

    def calls(self, method: str, path_prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.method == method and r.path.startswith(path_prefix)]

    # -- the protocol ------------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        path = urlsplit(handler.path).path
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        params = parse_form(raw) if method == "POST" else parse_form(urlsplit(handler.path).query)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._lock:
            self.requests.append(RecordedRequest(method, path, params, headers))
        try:
            status, body = self._answer(method, path, params, headers)
        except StripeApiError as exc:
            status = exc.status
            error: dict[str, Any] = {"type": exc.kind, "message": exc.message}
            if exc.param:
                error["param"] = exc.param
            body = {"error": error}
        payload = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.send_header("Request-Id", _new_id("req"))
        handler.end_headers()
        handler.wfile.write(payload)

    def _answer(
        self, method: str, path: str, params: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        if headers.get("authorization") != f"Bearer {self.api_key}":
            raise StripeApiError(401, "Invalid API Key provided.", kind="invalid_request_error")
        key = headers.get("idempotency-key") if method == "POST" else None
        if key:
            with self._lock:
                seen = self._idempotent.get(key)
            if seen is not None:
                seen_path, seen_params, status, body = seen
                if seen_path != path or seen_params != params:
                    raise StripeApiError(
                        400,
                        "Keys for idempotent requests can only be used with the same "
                        "parameters they were first used with.",
                        kind="idempotency_error",
                    )
                return status, body
        status, body = self._route(method, path, params)
        if key:
            with self._lock:
                self._idempotent[key] = (path, params, status, body)
        return status, body

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method == "POST" and path == "/v1/customers":
            return 200, self._create_customer(params)
        if method == "POST" and path == "/v1/checkout/sessions":
            return 200, self._create_session(params)
        match = re.fullmatch(r"/v1/checkout/sessions/([^/]+)", path)
        if method == "GET" and match:
            with self._lock:
                found = self.sessions.get(match.group(1))
            if found is None:
                raise StripeApiError(
                    404, f"No such checkout.session: '{match.group(1)}'", param="session"
                )
            return 200, found
        if method == "POST" and path == "/v1/billing_portal/sessions":
            if params.get("customer") not in self.customers:
                raise StripeApiError(
                    400, f"No such customer: '{params.get('customer')}'", param="customer"
                )
            return 200, {
                "id": _new_id("bps"),
                "object": "billing_portal.session",
                "customer": params["customer"],
                "return_url": params.get("return_url"),
                "url": f"https://billing.stripe.test/p/session/{secrets.token_hex(8)}",
            }
        match = re.fullmatch(r"/v1/payment_intents/([^/]+)", path)
        if method == "GET" and match:
            with self._lock:
                intent = self.payment_intents.get(match.group(1))
            if intent is None:
                raise StripeApiError(
                    404, f"No such payment_intent: '{match.group(1)}'", param="intent"
                )
            return 200, intent
        match = re.fullmatch(r"/v1/prices/([^/]+)", path)
        if method == "GET" and match:
            price = self.prices.get(match.group(1))
            if price is None:
                raise StripeApiError(404, f"No such price: '{match.group(1)}'", param="price")
            return 200, {
                "id": price.price_id,
                "object": "price",
                "unit_amount": price.unit_amount,
                "currency": price.currency,
                "recurring": {"interval": "month"} if price.recurring else None,
            }
        match = re.fullmatch(r"/v1/charges/([^/]+)", path)
        if method == "GET" and match:
            with self._lock:
                charge = self.charges.get(match.group(1))
            if charge is None:
                raise StripeApiError(404, f"No such charge: '{match.group(1)}'", param="id")
            return 200, charge
        raise StripeApiError(404, f"Unrecognized request URL ({method}: {path}).")

    def _create_customer(self, params: dict[str, Any]) -> dict[str, Any]:
        customer = {
            "id": _new_id("cus"),
            "object": "customer",
            "email": params.get("email"),
            "metadata": params.get("metadata") or {},
            "created": int(time.time()),
            "livemode": False,
        }
        with self._lock:
            self.customers[customer["id"]] = customer
        return customer

    def _create_session(self, params: dict[str, Any]) -> dict[str, Any]:
        mode = params.get("mode")
        if mode not in ("payment", "subscription", "setup"):
            raise StripeApiError(400, "Missing required param: mode.", param="mode")
        if not params.get("success_url"):
            raise StripeApiError(400, "Missing required param: success_url.", param="success_url")
        items = params.get("line_items") or []
        if not items:
            raise StripeApiError(400, "Missing required param: line_items.", param="line_items")
        amount = 0
        currency = "usd"
        for index, item in enumerate(items):
            price = self.prices.get((item or {}).get("price", ""))
            if price is None:
                raise StripeApiError(
                    400,
                    f"No such price: '{(item or {}).get('price')}'",
                    param=f"line_items[{index}][price]",
                )
            if price.recurring != (mode == "subscription"):
                raise StripeApiError(
                    400,
                    "You must provide at least one recurring price in `subscription` mode "
                    "when using prices."
                    if mode == "subscription"
                    else "You specified `payment` mode but passed a recurring price.",
                    param=f"line_items[{index}][price]",
                )
            amount += price.unit_amount * int(item.get("quantity") or 1)
            currency = price.currency
        customer = params.get("customer")
        if customer and customer not in self.customers:
            raise StripeApiError(400, f"No such customer: '{customer}'", param="customer")
        session_id = _new_id("cs")
        session = {
            "id": session_id,
            "object": "checkout.session",
            "mode": mode,
            "status": "open",
            "payment_status": "unpaid",
            "client_reference_id": params.get("client_reference_id"),
            "customer": customer,
            "metadata": params.get("metadata") or {},
            "success_url": params["success_url"],
            "cancel_url": params.get("cancel_url"),
            "amount_total": amount,
            "currency": currency,
            "payment_intent": None,
            "subscription": None,
            "created": int(time.time()),
            "livemode": False,
            "url": f"https://checkout.stripe.test/c/pay/{session_id}",
            # Kept to check what was asked for (Stripe does not echo these).
            "_payment_intent_data": params.get("payment_intent_data"),
            "_subscription_data": params.get("subscription_data"),
            "_line_items": items,
        }
        with self._lock:
            self.sessions[session_id] = session
        return session

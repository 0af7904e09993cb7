import json

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.backend.core.urls")]


def error_of(response) -> dict:
    body = json.loads(response.content)
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


@pytest.fixture
def client() -> Client:
    return Client(raise_request_exception=False)


def test_unknown_path_is_404_error_body(client):
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert error_of(response)["code"] == "NOT_FOUND"


def test_wrong_method_on_plain_view_is_405_with_allow(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    error = error_of(response)
    assert error["code"] == "METHOD_NOT_ALLOWED"
    assert error["details"]["allowed"] == ["GET"]
    assert response["Allow"] == "GET"


def test_wrong_method_on_api_view_is_405(client):
    response = client.get("/test/api/echo")
    assert response.status_code == 405
    assert error_of(response)["code"] == "METHOD_NOT_ALLOWED"


def test_unhandled_exception_in_plain_view_is_500_without_internals(client):
    response = client.get("/test/boom")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "INTERNAL_ERROR"
    assert "kaboom" not in response.content.decode()


def test_unhandled_exception_in_api_view_is_500(client):
    response = client.get("/test/api/boom")
    assert response.status_code == 500
    assert error_of(response)["code"] == "INTERNAL_ERROR"


def test_validation_error_names_the_field(client):
    response = client.post(
        "/test/api/echo",
        data={"name": "far too long a name", "count": 1},
        content_type="application/json",
    )
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "VALIDATION_ERROR"
    assert "name" in error["details"]["fields"]
    assert error["message"].startswith("name:")


def test_missing_field_is_named(client):
    response = client.post("/test/api/echo", data={"name": "ok"}, content_type="application/json")
    assert response.status_code == 400
    assert list(error_of(response)["details"]["fields"]) == ["count"]


def test_malformed_json_is_400_not_500(client):
    response = client.post("/test/api/echo", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "VALIDATION_ERROR"


def test_unsupported_media_type_is_415(client):
    response = client.post("/test/api/echo", data="name=x", content_type="text/plain")
    assert response.status_code == 415
    assert error_of(response)["code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_body_over_the_cap_is_413(client, settings):
    settings.MAX_REQUEST_BODY_BYTES = 2048
    response = client.post(
        "/test/api/echo",
        data=json.dumps({"name": "x" * 5000, "count": 1}),
        content_type="application/json",
    )
    assert response.status_code == 413
    error = error_of(response)
    assert error["code"] == "PAYLOAD_TOO_LARGE"
    assert error["details"]["limit_bytes"] == 2048


def test_happy_path_echoes(client):
    response = client.post(
        "/test/api/echo", data={"name": "ok", "count": 3}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"name": "ok", "count": 3}


class TestRequestId:
    def test_generated_when_absent(self, client):
        response = client.get("/livez")
        assert len(response["X-Request-ID"]) == 32

    def test_valid_client_id_is_echoed(self, client):
        response = client.get("/livez", headers={"X-Request-ID": "abc-123.DEF:9"})
        assert response["X-Request-ID"] == "abc-123.DEF:9"

    def test_invalid_client_id_is_replaced(self, client):
        response = client.get("/livez", headers={"X-Request-ID": "bad id\nwith newline"})
        assert response["X-Request-ID"] != "bad id\nwith newline"
        assert len(response["X-Request-ID"]) == 32

    def test_error_responses_carry_it_too(self, client):
        response = client.get("/test/boom", headers={"X-Request-ID": "trace-me"})
        assert response.status_code == 500
        assert response["X-Request-ID"] == "trace-me"


def test_request_log_line_is_json_with_request_id(client, capfd):
    client.get("/livez", headers={"X-Request-ID": "log-me"})
    lines = [
        json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")
    ]
    request_lines = [line for line in lines if line.get("event") == "request"]
    assert request_lines, lines
    line = request_lines[-1]
    assert line["request_id"] == "log-me"
    assert line["method"] == "GET" and line["path"] == "/livez" and line["status"] == 200
    assert isinstance(line["duration_ms"], float)


@pytest.mark.parametrize("path", ["/test/guard-down", "/test/api/guard-down"])
def test_budget_store_down_is_503_with_retry_after(client, path):
    # A Redis restart under the guard: the client is told to come back, not left guessing.
    response = client.get(path)
    assert response.status_code == 503
    error = error_of(response)
    assert error["code"] == "AI_SERVICE_UNAVAILABLE"
    assert int(response["Retry-After"]) >= 1
    assert error["details"]["retry_after_s"] == int(response["Retry-After"])


@pytest.mark.parametrize(
    ("detail", "message"),
    [
        ({"name": ["This field is required."]}, "name: This field is required."),
        ({"competitors": {1: ["Not a valid string."]}}, "competitors[1]: Not a valid string."),
        (
            {"items": [{}, {"price": {"key": ["Unknown price."]}}]},
            "items[1].price.key: Unknown price.",
        ),
        (
            {"items": {0: {"non_field_errors": ["Expected an object."]}}},
            "items[0]: Expected an object.",
        ),
    ],
)
def test_a_nested_validation_error_reads_as_a_path(detail, message):
    # A list or nested serializer's error is named by its path, not printed as a repr.
    from rest_framework import exceptions

    from backend.core.errors import from_exception

    error = from_exception(exceptions.ValidationError(detail))
    assert error is not None and error.code == "VALIDATION_ERROR"
    assert error.message == message
    assert set(error.details["fields"]) == set(detail)

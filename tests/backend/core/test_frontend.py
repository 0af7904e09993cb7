"""The chat UI's pages served from the Next.js export, and the public config."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def export(tmp_path, settings):
    (tmp_path / "index.html").write_text("<html>home</html>")
    (tmp_path / "chat.html").write_text("<html>chat</html>")
    (tmp_path / "factoids").mkdir()
    (tmp_path / "factoids" / "index.html").write_text("<html>factoids</html>")
    (tmp_path / "404.html").write_text("<html>not found page</html>")
    settings.FRONTEND_DIST_DIR = tmp_path
    return tmp_path


def _text(response) -> str:
    return response.content.decode()


def test_without_a_build_home_explains_how_to_build(client: Client, settings, tmp_path):
    settings.FRONTEND_DIST_DIR = tmp_path / "missing"
    response = client.get("/")
    assert response.status_code == 200
    assert b"npm run build" in response.content
    assert client.get("/chat").json()["error"]["code"] == "NOT_FOUND"


def test_pages_resolve_to_exported_html(client: Client, export):
    assert _text(client.get("/")) == "<html>home</html>"
    assert _text(client.get("/chat")) == "<html>chat</html>"
    assert _text(client.get("/chat/")) == "<html>chat</html>"
    assert _text(client.get("/factoids")) == "<html>factoids</html>"


def test_pages_are_not_cached_and_set_the_csrf_cookie(client: Client, export):
    response = client.get("/chat?session=abc")
    assert response["Cache-Control"] == "no-cache"
    assert response["Content-Type"].startswith("text/html")
    assert "csrftoken" in response.cookies


def test_unknown_page_gets_the_export_404(client: Client, export):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert _text(response) == "<html>not found page</html>"


def test_api_paths_keep_json_404s(client: Client, export):
    for path in ("/api/nope/", "/admin-nope/../api/x", "/_next/static/missing.js"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "NOT_FOUND", path


def test_paths_cannot_leave_the_export(client: Client, export):
    (export.parent / "secret.html").write_text("outside-the-export")
    for path in ("/../secret", "/%2e%2e/secret", "/chat/../../secret", "/factoids/../../secret"):
        response = client.get(path)
        assert b"outside-the-export" not in response.content, path
        assert response.status_code == 404, path


def test_pages_refuse_writes(client: Client, export):
    response = client.post("/chat", {})
    assert response.status_code == 405


def test_public_config_offline_default(client: Client, settings):
    settings.ENV = settings.ENV.model_copy(
        update={"POSTHOG_API_KEY": None, "STRIPE_SECRET_KEY": None, "DEFAULT_MODEL": None}
    )
    body = client.get("/api/config/").json()
    assert body == {
        "default_model": "offline",
        "offline": True,
        "posthog": None,
        "billing_enabled": False,
    }


def test_public_config_names_the_posthog_project_key(client: Client, settings):
    settings.ENV = settings.ENV.model_copy(
        update={"POSTHOG_API_KEY": "phc_test", "POSTHOG_HOST": "http://ph.local"}
    )
    body = client.get("/api/config/").json()
    assert body["posthog"] == {"key": "phc_test", "host": "http://ph.local"}

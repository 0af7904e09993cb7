import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_anonymous_is_401():
    assert (
        APIClient().post("/api/tools/hashtags/", {"topic": "x"}, format="json").status_code == 401
    )
    assert APIClient().get("/api/history/").status_code == 401


@pytest.mark.parametrize("path", ["content-ideas", "keywords", "hashtags", "viral-score"])
def test_bad_arguments_are_400_naming_the_field(anon_client, path):
    response = anon_client.post(
        f"/api/tools/{path}/", {"unknown": 1, "count": "many"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["fields"]


def test_tool_results_go_to_history_newest_first(anon_client):
    first = anon_client.post("/api/tools/hashtags/", {"topic": "home espresso"}, format="json")
    assert first.status_code == 200
    second = anon_client.post("/api/tools/hashtags/", {"topic": "latte art"}, format="json")
    assert second.status_code == 200
    history = anon_client.get("/api/history/?tool=hashtags").json()
    assert history["count"] == 2
    assert [h["input"]["topic"] for h in history["results"]] == ["latte art", "home espresso"]
    assert history["results"][0]["result"] == second.json()
    assert anon_client.get("/api/history/?tool=nope").status_code == 400
    other = APIClient()
    other.credentials(HTTP_X_CLIENT_TOKEN=other.post("/api/clients/").json()["token"])
    assert other.get("/api/history/").json()["count"] == 0


def test_model_tools_respect_the_budget(anon_client, env):
    env(
        DECLARED_MODELS=[{"id": "p/m", "input_per_million": "1", "output_per_million": "1"}],
        GUARD_ANON_CLIENT_DAILY_USD=0,
    )
    response = anon_client.post(
        "/api/tools/hashtags/", {"topic": "espresso", "model": "p/m"}, format="json"
    )
    assert response.status_code == 402


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("content-ideas", {"topic": "  "}, "topic"),
        ("keywords", {"topic": ""}, "topic"),
        ("viral-score", {"text": ""}, "text"),
        ("viral-score", {"text": "x" * 20_001}, "text"),
    ],
)
def test_empty_or_over_long_text_names_the_field(anon_client, path, body, field):
    response = anon_client.post(f"/api/tools/{path}/", body, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["details"]["fields"]) == [field]

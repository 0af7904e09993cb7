"""``manage eval_push`` and ``agents.evals.push.push_run`` against a local Braintrust API
(``tests/fakes/braintrust_server.py``): the real SDK logs in, registers the experiment and
uploads the rows over HTTP."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from agents.evals.push import PushError, push_run
from tests.fakes.braintrust_server import BraintrustServer

PROJECT = "insightstream-agent"
# What the SDK reads from the environment itself would point it elsewhere.
SDK_ENVIRONMENT = (
    "BRAINTRUST_API_URL",
    "BRAINTRUST_APP_URL",
    "BRAINTRUST_APP_PUBLIC_URL",
    "BRAINTRUST_PROXY_URL",
    "BRAINTRUST_ORG_NAME",
    "BRAINTRUST_SYNC_FLUSH",
)


@pytest.fixture
def braintrust_server(monkeypatch) -> Iterator[BraintrustServer]:
    for name in SDK_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    server = BraintrustServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def braintrust_env(env, braintrust_server) -> BraintrustServer:
    env(BRAINTRUST_API_KEY=braintrust_server.api_key, BRAINTRUST_APP_URL=braintrust_server.url)
    return braintrust_server


def make_artifact(*, run_id: str | None = None, cases: int = 3) -> dict[str, Any]:
    return {
        "schema": 1,
        "run_id": run_id or uuid.uuid4().hex,
        "created_at": "2026-03-01T12:00:00+00:00",
        "git_commit": "0123456789abcdef0123456789abcdef01234567",
        "mode": "offline",
        "model": "offline",
        "project": PROJECT,
        "experiment": "offline-planner",
        "measures": "the offline planner and the pipeline: not a model's judgement",
        "cases": [
            {
                "input": f"hashtags for espresso channel #{index}",
                "expected": {"tools": ["hashtags"], "args": {"topic": "espresso"}},
                "output": {
                    "tools": ["hashtags"],
                    "tool_calls": [{"name": "hashtags", "args": {"topic": "espresso"}}],
                    "answer": f"answer {index}",
                },
                "scores": {
                    "tool_precision": 1.0,
                    "tool_recall": index / cases,
                    "grounding": 0.5,
                    "format": None,
                },
                "error": None,
            }
            for index in range(cases)
        ],
        "summary": {"tool_precision": 1.0, "tool_recall": 0.333, "grounding": 0.5},
    }


def write(path: Path, artifact: dict[str, Any]) -> Path:
    path.write_text(json.dumps(artifact))
    return path


def run_command(*args: Any) -> str:
    out = StringIO()
    call_command("eval_push", *args, stdout=out)
    return out.getvalue()


def assert_rows_match(server: BraintrustServer, artifact: dict[str, Any]) -> None:
    (experiment,) = server.experiments_in(PROJECT)
    assert experiment.name == f"offline-planner-{artifact['run_id'][:8]}"
    assert experiment.info["repo_info"]["commit"] == artifact["git_commit"]
    assert experiment.info["metadata"]["run_id"] == artifact["run_id"]
    assert len(experiment.rows) == len(artifact["cases"])
    for index, case in enumerate(artifact["cases"]):
        row = experiment.rows[f"{artifact['run_id']}-{index}"]
        assert row["input"] == case["input"]
        assert row["output"] == case["output"]
        assert row["expected"] == case["expected"]
        assert row["scores"] == {k: v for k, v in case["scores"].items() if v is not None}
        assert "format" not in row["scores"]
        assert row.get("error") == case["error"]
        assert row["metadata"] == {
            "git_commit": artifact["git_commit"],
            "mode": "offline",
            "model": "offline",
            "run_id": artifact["run_id"],
        }


# --- the command: refusals first, then the happy path


def test_without_a_key_the_command_refuses_and_sends_nothing(env, braintrust_server, tmp_path):
    env(BRAINTRUST_API_KEY=None, BRAINTRUST_APP_URL=braintrust_server.url)
    path = write(tmp_path / "run.json", make_artifact())
    with pytest.raises(CommandError, match="BRAINTRUST_API_KEY is not set"):
        run_command(str(path))
    assert braintrust_server.requests == []


@pytest.mark.parametrize(
    ("breakage", "named"),
    [
        (lambda a: a.pop("cases"), "cases: missing"),
        (lambda a: a.update(schema=2), "schema: expected 1, got 2"),
        (lambda a: a.update(mode="vibes"), "mode: expected one of"),
        (lambda a: a.update(git_commit=12), "git_commit: expected a string or null"),
        (lambda a: a.update(cases=[]), "cases: empty"),
        (lambda a: a["cases"][1].pop("input"), r"cases\[1\]\.input: missing"),
        (lambda a: a["cases"][0]["scores"].update(grounding=1.5), r"cases\[0\]\.scores\.grounding"),
        (lambda a: a["cases"][2].update(output="text"), r"cases\[2\]\.output: expected an object"),
        (lambda a: a["cases"][0].update(error=3), r"cases\[0\]\.error: expected a string"),
    ],
)
def test_a_malformed_artifact_is_refused_naming_the_field(
    braintrust_env, tmp_path, breakage, named
):
    artifact = make_artifact()
    breakage(artifact)
    path = write(tmp_path / "run.json", artifact)
    with pytest.raises(CommandError, match=f"not an eval run artifact: {named}"):
        run_command(str(path))
    assert braintrust_env.requests == []


def test_a_file_that_is_not_json_or_not_there_is_refused(braintrust_env, tmp_path):
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(CommandError, match="not a readable JSON file"):
        run_command(str(tmp_path / "broken.json"))
    with pytest.raises(CommandError, match="no such file"):
        run_command(str(tmp_path / "missing.json"))
    with pytest.raises(CommandError, match="either an artifact file or --latest"):
        run_command()


def test_a_wrong_key_is_braintrusts_refusal(env, braintrust_server, tmp_path):
    env(BRAINTRUST_API_KEY="sk-not-this-one", BRAINTRUST_APP_URL=braintrust_server.url)
    path = write(tmp_path / "run.json", make_artifact())
    with pytest.raises(CommandError, match="Invalid API key"):
        run_command(str(path))
    assert braintrust_server.experiments == {}


def test_push_sends_one_experiment_and_prints_its_url(braintrust_env, tmp_path):
    artifact = make_artifact(cases=3)
    output = run_command(str(write(tmp_path / "run.json", artifact)))

    assert_rows_match(braintrust_env, artifact)
    (experiment,) = braintrust_env.experiments_in(PROJECT)
    url = f"{braintrust_env.url}/app/insightstream/p/{PROJECT}/experiments/{experiment.name}"
    assert output.strip().splitlines()[-1] == url
    assert f"Pushed 3 cases of run {artifact['run_id']}" in output
    assert "tool_recall" in output and "0.333" in output
    assert braintrust_env.unknown == []


def test_pushing_the_same_run_again_replaces_its_rows(braintrust_env, tmp_path):
    artifact = make_artifact(cases=4)
    path = write(tmp_path / "run.json", artifact)
    first = run_command(str(path))
    second = run_command(str(path))

    assert_rows_match(braintrust_env, artifact)  # one experiment, still 4 rows
    assert braintrust_env.paths().count("POST /logs3") == 2  # the rows were sent twice
    assert first.splitlines()[-1] == second.splitlines()[-1]


def test_another_run_is_another_experiment(braintrust_env, tmp_path):
    run_command(str(write(tmp_path / "a.json", make_artifact(cases=2))))
    run_command(str(write(tmp_path / "b.json", make_artifact(cases=3))))
    experiments = braintrust_env.experiments_in(PROJECT)
    assert sorted(len(e.rows) for e in experiments) == [2, 3]


def test_latest_pushes_the_newest_file_in_eval_results_dir(env, braintrust_env, tmp_path):
    env(EVAL_RESULTS_DIR=str(tmp_path))
    older, newer = make_artifact(), make_artifact()
    write(tmp_path / "eval-b-older.json", older)
    write(tmp_path / "eval-a-newer.json", newer)
    now = time.time()
    os.utime(tmp_path / "eval-b-older.json", (now - 60, now - 60))

    output = run_command("--latest")

    assert f"Latest run: {tmp_path / 'eval-a-newer.json'}" in output
    assert_rows_match(braintrust_env, newer)


def test_latest_with_no_runs_says_where_it_looked(env, braintrust_env, tmp_path):
    env(EVAL_RESULTS_DIR=str(tmp_path / "evals"))
    with pytest.raises(CommandError, match=f"no eval runs .* in {tmp_path / 'evals'}"):
        run_command("--latest")


def test_eval_results_dir_defaults_under_data_dir(env, tmp_path):
    env(DATA_DIR=str(tmp_path), EVAL_RESULTS_DIR="")
    from django.conf import settings

    assert settings.ENV.eval_results_dir == tmp_path / "evals"


# --- push_run itself


def test_push_run_reports_what_braintrust_says(braintrust_server):
    artifact = make_artifact(cases=3)
    pushed = push_run(artifact, api_key=braintrust_server.api_key, app_url=braintrust_server.url)

    assert_rows_match(braintrust_server, artifact)
    (experiment,) = braintrust_server.experiments_in(PROJECT)
    assert pushed["experiment_id"] == experiment.id
    assert pushed["experiment_name"] == experiment.name
    assert pushed["project_name"] == PROJECT
    assert pushed["rows"] == 3
    assert pushed["experiment_url"].endswith(f"/p/{PROJECT}/experiments/{experiment.name}")
    # Braintrust's means over the rows it holds; "format" was null everywhere.
    assert pushed["scores"] == pytest.approx(
        {"tool_precision": 1.0, "tool_recall": 1 / 3, "grounding": 0.5}
    )
    assert braintrust_server.paths()[:3] == [
        "POST /api/apikey/login",
        "POST /v1/project",
        "POST /v1/experiment",
    ]
    registration = next(r for r in braintrust_server.requests if r.path == "/v1/experiment")
    assert registration.body["ensure_new"] is False  # a re-push finds this experiment
    assert registration.body["description"] == artifact["measures"]


def test_a_case_that_raised_carries_its_error(braintrust_server):
    artifact = make_artifact(cases=2)
    artifact["cases"][1].update(
        output={"tools": [], "tool_calls": [], "answer": ""},
        error="TimeoutError: the model took too long",
    )
    push_run(artifact, api_key=braintrust_server.api_key, app_url=braintrust_server.url)
    assert_rows_match(braintrust_server, artifact)


def test_push_run_raises_when_braintrust_refuses_the_rows(braintrust_server, monkeypatch):
    monkeypatch.setenv("BRAINTRUST_NUM_RETRIES", "0")  # the SDK backs off 1 s, 2 s otherwise
    braintrust_server.fail_logs3_status = 500
    with pytest.raises(PushError, match=r"log request failed.*500"):
        push_run(make_artifact(), api_key=braintrust_server.api_key, app_url=braintrust_server.url)


def test_push_run_leaves_no_thread_of_its_own_behind(braintrust_server):
    push_run(make_artifact(), api_key=braintrust_server.api_key, app_url=braintrust_server.url)
    before = set(threading.enumerate())
    for _ in range(3):
        push_run(make_artifact(), api_key=braintrust_server.api_key, app_url=braintrust_server.url)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not left:
            break
        time.sleep(0.05)
    assert left == [], [t.name for t in left]

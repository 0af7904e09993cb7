"""Send a stored eval run (the JSON artifact ``python -m agents.evals`` writes) to Braintrust.

Each run becomes its own experiment, ``<experiment>-<run_id[:8]>``, and each case one row
with the id ``<run_id>-<index>``. Pushing the same artifact again finds that experiment
(the SDK's ``update=True``) and the rows replace their namesakes, so nothing is doubled.
Django-free: the backend's ``eval_push`` command supplies the key and the address.
"""

from __future__ import annotations

import atexit
from collections.abc import Mapping
from typing import Any

import braintrust
from braintrust.git_fields import RepoInfo
from braintrust.logger import BraintrustState, SummarySuccess

ARTIFACT_SCHEMA = 1
MODES = ("offline", "scripted", "model")


class ArtifactError(ValueError):
    """The artifact is not one this code understands; ``field`` names where."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field


class PushError(RuntimeError):
    """Braintrust (or the way to it) refused or failed the push."""


def _require(
    container: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str
) -> Any:
    if key not in container:
        raise ArtifactError(where, "missing")
    value = container[key]
    if not isinstance(value, kind):
        raise ArtifactError(where, f"expected {_kind_name(kind)}, got {type(value).__name__}")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", dict: "an object", list: "a list", type(None): "null"}
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def validate_artifact(artifact: Any) -> None:
    """Raise ``ArtifactError`` naming the first field that does not fit schema 1."""
    if not isinstance(artifact, dict):
        raise ArtifactError("(artifact)", f"expected an object, got {type(artifact).__name__}")
    schema = artifact.get("schema")
    if schema != ARTIFACT_SCHEMA:
        raise ArtifactError("schema", f"expected {ARTIFACT_SCHEMA}, got {schema!r}")
    for key in ("run_id", "created_at", "model", "project", "experiment"):
        if not _require(artifact, key, str, key).strip():
            raise ArtifactError(key, "empty")
    _require(artifact, "git_commit", (str, type(None)), "git_commit")
    if artifact.get("measures") is not None:
        _require(artifact, "measures", str, "measures")
    if _require(artifact, "mode", str, "mode") not in MODES:
        raise ArtifactError("mode", f"expected one of {', '.join(MODES)}, got {artifact['mode']!r}")
    cases = _require(artifact, "cases", list, "cases")
    if not cases:
        raise ArtifactError("cases", "empty")
    for index, case in enumerate(cases):
        where = f"cases[{index}]"
        if not isinstance(case, dict):
            raise ArtifactError(where, f"expected an object, got {type(case).__name__}")
        _require(case, "input", str, f"{where}.input")
        _require(case, "expected", dict, f"{where}.expected")
        _require(case, "output", dict, f"{where}.output")
        if case.get("error") is not None:
            _require(case, "error", str, f"{where}.error")
        scores = _require(case, "scores", dict, f"{where}.scores")
        for name, score in scores.items():
            if score is None:
                continue
            if isinstance(score, bool) or not isinstance(score, int | float) or not 0 <= score <= 1:
                raise ArtifactError(
                    f"{where}.scores.{name}", f"expected a number 0-1 or null, got {score!r}"
                )


def experiment_name(artifact: Mapping[str, Any]) -> str:
    return f"{artifact['experiment']}-{artifact['run_id'][:8]}"


def row_id(run_id: str, index: int) -> str:
    return f"{run_id}-{index}"


def push_run(
    artifact: dict[str, Any],
    *,
    api_key: str,
    app_url: str | None = None,
    org_name: str | None = None,
) -> dict[str, Any]:
    """Log ``artifact``'s cases as one Braintrust experiment; what Braintrust then reports.

    ``app_url`` is where the SDK logs in (the SDK's ``app_url``; default braintrust.dev, or
    ``BRAINTRUST_APP_URL``); the login answers where the API is. Raises ``ArtifactError``
    for an artifact that does not fit, ``PushError`` when Braintrust fails the push.
    """
    validate_artifact(artifact)
    run_id = artifact["run_id"]
    # A state of its own: the SDK's global one keeps its first login's connection for rows
    # even after logging in elsewhere (braintrust 0.47), and nothing here leaks into it.
    state = BraintrustState()
    state.span_cache.disable()
    row_logger = _flushed_by_caller(state)
    try:
        experiment = braintrust.init(
            project=artifact["project"],
            experiment=experiment_name(artifact),
            description=artifact.get("measures"),  # what a run in this mode measures
            api_key=api_key,
            app_url=app_url,
            org_name=org_name,
            update=True,
            set_current=False,
            state=state,
            # The artifact's commit, not the checkout's this happens to run in.
            repo_info=RepoInfo(commit=artifact["git_commit"]),
            metadata={
                "run_id": run_id,
                "created_at": artifact["created_at"],
                "mode": artifact["mode"],
                "model": artifact["model"],
            },
        )
        # Log in and register now: the SDK would otherwise do it lazily inside the row
        # upload, where a bad key is retried with back-off and printed instead of raised.
        experiment.id  # noqa: B018
        for index, case in enumerate(artifact["cases"]):
            experiment.log(
                id=row_id(run_id, index),
                input=case["input"],
                output=case["output"],
                expected=case["expected"],
                error=case.get("error"),  # the case's task raised: its output is empty
                # Braintrust takes numbers 0-1 only; a scorer that did not apply is left out.
                scores={name: s for name, s in case["scores"].items() if s is not None},
                metadata={
                    "git_commit": artifact["git_commit"],
                    "mode": artifact["mode"],
                    "model": artifact["model"],
                    "run_id": run_id,
                },
            )
        summary = experiment.summarize()  # flushes the rows first
    except Exception as exc:
        raise PushError(f"Braintrust push failed: {_describe(exc)}") from exc
    finally:
        # The logger's exit-time flush would keep this state alive to flush nothing.
        finalize = getattr(row_logger, "_finalize", None)
        if finalize is not None:
            atexit.unregister(finalize)
    comparison = summary.comparison
    return {
        "project_id": summary.project_id,
        "project_name": summary.project_name,
        "project_url": summary.project_url,
        "experiment_id": summary.experiment_id,
        "experiment_name": summary.experiment_name,
        "experiment_url": summary.experiment_url,
        "rows": len(artifact["cases"]),
        "scores": (
            {name: s.score for name, s in comparison.scores.items()}
            if isinstance(comparison, SummarySuccess)
            else {}
        ),
        "comparison_experiment_name": summary.comparison_experiment_name,
    }


def _flushed_by_caller(state: BraintrustState) -> Any:
    """The state's row logger, sending only when flushed, in the caller's thread.

    By default the SDK starts a publisher thread per state on the first row that never
    ends, and a failed upload is printed and dropped. Marked as started it spawns none
    (``summarize()`` flushes here instead), and ``sync_flush`` (the SDK's
    ``BRAINTRUST_SYNC_FLUSH``) makes a failed upload raise. Written against braintrust 0.47.
    """
    row_logger: Any = state.global_bg_logger()
    row_logger.sync_flush = True
    row_logger.started = True
    return row_logger


def _describe(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe(inner) for inner in exc.exceptions)
    return str(exc) or type(exc).__name__

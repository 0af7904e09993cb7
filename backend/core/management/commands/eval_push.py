"""``insightstream manage eval_push <artifact.json> | --latest``: send a stored agent eval
run (the JSON ``python -m agents.evals`` writes) to Braintrust as one experiment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from agents.evals.push import ArtifactError, PushError, push_run, validate_artifact


class Command(BaseCommand):
    help = (
        "Send a stored agent eval run to Braintrust (BRAINTRUST_API_KEY); pushing the same "
        "run again replaces its rows instead of adding more."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("artifact", nargs="?", type=Path, help="the run's JSON file")
        parser.add_argument(
            "--latest",
            action="store_true",
            help="push the newest file in EVAL_RESULTS_DIR instead",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        env = settings.ENV
        path = self._artifact_path(options["artifact"], latest=options["latest"])
        artifact = _read_artifact(path)
        if not env.BRAINTRUST_API_KEY:
            raise CommandError(
                "BRAINTRUST_API_KEY is not set: eval_push needs a Braintrust API key "
                "(and BRAINTRUST_APP_URL for a Braintrust other than braintrust.dev)"
            )
        try:
            pushed = push_run(
                artifact, api_key=env.BRAINTRUST_API_KEY, app_url=env.BRAINTRUST_APP_URL
            )
        except PushError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        self.stdout.write(
            f"Pushed {pushed['rows']} cases of run {artifact['run_id']} to Braintrust "
            f"experiment {pushed['experiment_name']!r} in project {pushed['project_name']!r}"
        )
        for name, score in sorted(pushed["scores"].items()):
            self.stdout.write(f"  {name:32s} {score:.3f}")
        self.stdout.write(str(pushed["experiment_url"]))

    def _artifact_path(self, given: Path | None, *, latest: bool) -> Path:
        if (given is None) == (not latest):
            raise CommandError("give either an artifact file or --latest")
        if given is not None:
            return given
        directory: Path = settings.ENV.eval_results_dir
        found = sorted(directory.glob("*.json"), key=lambda p: p.stat().st_mtime)
        if not found:
            raise CommandError(
                f"no eval runs (*.json) in {directory} (EVAL_RESULTS_DIR); "
                "run `uv run python -m agents.evals` first"
            )
        self.stdout.write(f"Latest run: {found[-1]}")
        return found[-1]


def _read_artifact(path: Path) -> dict[str, Any]:
    try:
        artifact = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise CommandError(f"{path}: not a readable JSON file ({exc})") from None
    try:
        validate_artifact(artifact)
    except ArtifactError as exc:
        raise CommandError(f"{path}: not an eval run artifact: {exc}") from None
    return artifact  # type: ignore[no-any-return]

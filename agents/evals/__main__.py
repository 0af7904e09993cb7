"""Run the agent eval: ``uv run python -m agents.evals [--model ID] [--check]``.

Every case in ``agents.evals.dataset`` goes through the agent (``agents.evals.runner``):
the offline model by default; ``--model`` with ``OPENROUTER_API_KEY`` (and optionally
``--base-url``) evaluates a real model. Prints each scorer's mean, writes the run as JSON
to ``--out`` (default ``data/evals``; ``insightstream manage eval_push`` sends one to
Braintrust) and with ``--check`` exits 1 when a mean falls below its recorded threshold
(``agents/evals/thresholds.json``). Braintrust gets the logs directly only with
``--send`` and ``BRAINTRUST_API_KEY`` (an entry point, like the CLI, may read the
environment).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from agents.evals.runner import (
    EvalTarget,
    below_thresholds,
    recorded_thresholds,
    run_eval,
    write_artifact,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agents.evals")
    parser.add_argument("--model", help="a model id to evaluate (needs OPENROUTER_API_KEY)")
    parser.add_argument("--base-url", default=os.environ.get("OPENROUTER_BASE_URL"))
    data_dir = Path(os.environ.get("DATA_DIR", "data"))
    parser.add_argument("--out", type=Path, default=data_dir / "evals")
    parser.add_argument("--check", action="store_true", help="fail below the thresholds")
    parser.add_argument("--send", action="store_true", help="log to Braintrust directly")
    args = parser.parse_args(argv)
    if args.model:
        key = os.environ.get("OPENROUTER_API_KEY")
        if not key:
            parser.error("--model needs OPENROUTER_API_KEY")
        target = EvalTarget(
            mode="model",
            model_id=args.model,
            base_url=args.base_url or "https://openrouter.ai/api/v1",
            api_key=key,
        )
    else:
        target = EvalTarget()
    artifact = run_eval(
        target=target, send_logs=args.send and bool(os.environ.get("BRAINTRUST_API_KEY"))
    )
    path = write_artifact(artifact, args.out)
    print(f"\n{len(artifact['cases'])} cases, {artifact['mode']} ({artifact['measures']})")
    for name, mean in artifact["summary"].items():
        print(f"{name:32s} {mean:.3f}")
    for row in artifact["cases"]:
        if sorted(row["output"]["tools"]) != row["expected"]["tools"]:
            print(f"  miss: {row['input']!r}: expected {row['expected']['tools']}, "
                  f"got {row['output']['tools']}")  # fmt: skip
    print(f"written to {path}")
    if args.check and artifact["mode"] == "offline":
        failed = below_thresholds(artifact["summary"], recorded_thresholds("offline"))
        for line in failed:
            print(f"BELOW THRESHOLD {line}")
        return 1 if failed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: outlier scoring and upload streaks per channel.

    uv run python tests/bench/bench_analytics.py [--repeats 7] [--synthetic 100000] [--seed 7]

Times ``score_outliers`` and ``upload_streak`` on every channel of the shared
``channel_uploads`` CSVs (when ``<repo>/../shared/data`` is present) and on a seeded
synthetic channel, each ``--repeats`` times, and prints best and median wall time.
Target: 100,000 videos scored by ``score_outliers`` in under 200 ms.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from agents.analytics.csv_import import load_uploads_csv  # noqa: E402
from agents.analytics.outliers import score_outliers  # noqa: E402
from agents.analytics.streak import upload_streak  # noqa: E402
from agents.analytics.video import Video  # noqa: E402

UPLOADS_DIR = REPO_ROOT.parent / "shared" / "data" / "youtube" / "channel_uploads"
TARGET_MS = 200.0


def synthetic_channel(count: int, *, seed: int, as_of: datetime) -> list[Video]:
    """A channel with log-normal views, ten years of uploads and a third Shorts."""
    rnd = random.Random(seed)
    videos = []
    for i in range(count):
        views = int(rnd.lognormvariate(9, 2))
        videos.append(
            Video(
                video_id=f"syn{i:07d}",
                channel_id="UCsynthetic",
                channel_title="Synthetic",
                title=f"Video {i}",
                description="",
                tags=(),
                published_at=as_of - timedelta(seconds=rnd.randint(0, 10 * 365 * 86_400)),
                duration_seconds=rnd.choice([None, 15, 45, 60, 300, 600, 1200, 3600]),
                views=views,
                likes=int(views * rnd.uniform(0, 0.08)),
                comments=int(views * rnd.uniform(0, 0.01)),
            )
        )
    return videos


def timed(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return min(runs), statistics.median(runs)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--synthetic", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    print(
        f"command : uv run python tests/bench/bench_analytics.py {' '.join(argv or sys.argv[1:])}"
    )
    print(f"machine : {cpu_model()}, {os.cpu_count()} CPU(s), {platform.platform()}")
    print(f"python  : {platform.python_implementation()} {platform.python_version()}")
    print(f"repeats : {args.repeats} (best / median wall time, ms)\n")

    cases: list[tuple[str, list[Video], datetime]] = []
    if UPLOADS_DIR.is_dir():
        for path in sorted(UPLOADS_DIR.glob("*.csv")):
            imported = load_uploads_csv(path=path)
            as_of = max(v.published_at for c in imported.channels for v in c.videos)
            as_of += timedelta(days=2)
            for channel in imported.channels:
                cases.append((f"{path.stem}: {channel.channel_title}", channel.videos, as_of))
    else:
        print(f"(shared data not found under {UPLOADS_DIR}; synthetic channel only)\n")
    synthetic_as_of = datetime(2025, 1, 1, tzinfo=UTC)
    synthetic = synthetic_channel(args.synthetic, seed=args.seed, as_of=synthetic_as_of)
    cases.append((f"synthetic (seed {args.seed})", synthetic, synthetic_as_of))

    header = f"{'channel':<52} {'videos':>7} {'outliers best/med':>18} {'streak best/med':>17}"
    print(header)
    print("-" * len(header))
    verdict = 0
    for name, videos, as_of in cases:
        out_best, out_med = timed(
            lambda v=videos, a=as_of: score_outliers(v, as_of=a), args.repeats
        )
        st_best, st_med = timed(lambda v=videos, a=as_of: upload_streak(v, as_of=a), args.repeats)
        print(
            f"{name[:52]:<52} {len(videos):>7} {out_best:>8.2f} /{out_med:>8.2f} "
            f"{st_best:>7.2f} /{st_med:>8.2f}"
        )
        if len(videos) >= 100_000:
            ok = out_med < TARGET_MS
            verdict |= 0 if ok else 1
            print(
                f"{'':<52} target: {len(videos):,} videos scored in < {TARGET_MS:.0f} ms "
                f"(median) -> {'met' if ok else 'MISSED'}"
            )
    return verdict


if __name__ == "__main__":
    raise SystemExit(main())

"""Only agents/models.py (and the offline model it wraps) may construct chat models."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {ROOT / "agents/models.py", ROOT / "agents/offline.py"}
PATTERNS = [
    re.compile(r"\bChatOpenAI\s*\("),
    re.compile(r"\binit_chat_model\s*\("),
    re.compile(r"\bChat[A-Z]\w*\s*\(\s*(?:model|base_url|api_key)\s*="),
    re.compile(r"\b(?:Offline|Guarded)ChatModel\s*\("),
]


def _subclasses_of_base_chat_model(source: str) -> list[str]:
    return re.findall(r"class\s+(\w+)\s*\([^)]*BaseChatModel", source)


def offending_lines(root: Path) -> list[str]:
    found: list[str] = []
    for folder in ("agents", "backend"):
        for path in sorted((root / folder).rglob("*.py")):
            if path in ALLOWED or "migrations" in path.parts:
                continue
            source = path.read_text(encoding="utf-8")
            names = _subclasses_of_base_chat_model(source)
            patterns = PATTERNS + [re.compile(rf"\b{name}\s*\(") for name in names]
            for number, line in enumerate(source.splitlines(), start=1):
                if any(p.search(line) for p in patterns) and not line.lstrip().startswith("class "):
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def test_no_chat_model_is_built_outside_the_factory() -> None:
    assert offending_lines(ROOT) == []


def test_the_check_catches_a_direct_construction(tmp_path: Path) -> None:
    (tmp_path / "agents").mkdir()
    (tmp_path / "backend").mkdir()
    (tmp_path / "agents/sneaky.py").write_text("model = ChatOpenAI(model='x')\n")
    (tmp_path / "backend/other.py").write_text(
        "class Mine(BaseChatModel):\n    pass\n\nm = Mine()\n"
    )
    assert len(offending_lines(tmp_path)) == 2

"""The UI's keyword and hashtag card fixtures (frontend/tests/fixtures/) are real tool
outputs (recorded from POST /api/tools/keywords/ and /hashtags/ against the fake YouTube
API): they still validate against the output models, field for field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from agents.tools.hashtags import HashtagsOutput
from agents.tools.keyword_research import KeywordResearchOutput

FIXTURES = Path(__file__).resolve().parents[3] / "frontend" / "tests" / "fixtures"


@pytest.mark.parametrize(
    ("name", "model"),
    [("keyword-research.json", KeywordResearchOutput), ("hashtags.json", HashtagsOutput)],
)
def test_fixture_is_a_current_output(name: str, model: type[BaseModel]) -> None:
    recorded = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    assert model.model_validate(recorded).model_dump(mode="json") == recorded

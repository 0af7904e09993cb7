import re

from backend.config.env import AppSettings
from tests.conftest import REPO_ROOT


def test_sample_env_lists_every_setting_with_a_comment():
    lines = (REPO_ROOT / "sample.env").read_text().splitlines()
    documented = {}
    for index, line in enumerate(lines):
        match = re.match(r"^([A-Z][A-Z0-9_]+)=", line)
        if match:
            documented[match.group(1)] = index
    assert set(documented) == set(AppSettings.model_fields)
    for name, index in documented.items():
        above = lines[index - 1] if index else ""
        is_group = above.startswith(("#",)) or re.match(r"^[A-Z][A-Z0-9_]+=", above)
        assert is_group, f"{name} has no comment above it"


def test_render_yaml_names_only_real_settings():
    text = (REPO_ROOT / "render.yaml").read_text()
    keys = set(re.findall(r"- key: ([A-Z][A-Z0-9_]+)", text))
    unknown = keys - set(AppSettings.model_fields) - {"DJANGO_SETTINGS_MODULE", "PYTHON_VERSION"}
    assert not unknown, unknown

"""The frontend's own checks, run from the one test command: types and Vitest."""

from tests.frontend.toolchain import npm, require_frontend


def test_typescript_types_check():
    require_frontend()
    npm(["run", "typecheck"])


def test_vitest_suite_passes():
    require_frontend()
    npm(["test"])

"""The code stays lint-clean (ruff, configured in pyproject.toml: pyflakes, pycodestyle, bugbear; 120 columns)."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_ruff_is_clean():
    pytest.importorskip("ruff")
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "--output-format", "concise", ROOT],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr

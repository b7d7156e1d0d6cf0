"""Linters over the packaging scripts and the installers workflow, where they are installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHELL_SCRIPTS = [ROOT / "packaging/linux/install.sh", ROOT / "packaging/macos/make_dmg.sh"]
WORKFLOW = ROOT / ".github/workflows/installers.yml"


def tool(name: str) -> str:
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip(f"{name} not installed (see packaging/README.md, 'Hosted CI')")
    return found


def test_shell_scripts_pass_shellcheck() -> None:
    run = subprocess.run(
        [tool("shellcheck"), "--shell=sh", *map(str, SHELL_SCRIPTS)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_workflow_passes_actionlint() -> None:
    run = subprocess.run(
        [tool("actionlint"), "-shellcheck=", str(WORKFLOW)], capture_output=True, text=True
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_workflow_builds_and_selftests_on_three_systems() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    for runner in ("ubuntu-latest", "windows-latest", "macos-latest"):
        assert runner in text
    assert "python packaging/build.py --selftest" in text
    assert "torch==2.14.1 torchvision==0.29.1" in text  # the pair moves together


def test_shell_scripts_are_executable() -> None:
    for script in SHELL_SCRIPTS:
        assert script.stat().st_mode & 0o111, script

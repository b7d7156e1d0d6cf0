"""desktop/selftest.py: the PLY check, the summary line, and one real run from source."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from desktop import selftest
from engine.export import save
from engine.pointcloud import PointCloud

ROOT = Path(__file__).resolve().parents[2]


def cloud(n: int = 64, colors: bool = True) -> PointCloud:
    rng = np.random.default_rng(0)
    xyz = rng.uniform(-0.5, 0.5, (n, 3)).astype(np.float32)
    rgb = rng.uniform(0, 1, (n, 3)).astype(np.float32) if colors else None
    return PointCloud(xyz, rgb)


def test_check_ply_accepts_a_good_cloud(tmp_path: Path) -> None:
    path = save(cloud(), tmp_path / "a.ply")
    text = selftest.check_ply(path)
    assert text.startswith("64 points, finite")


def test_check_ply_rejects_missing_colours(tmp_path: Path) -> None:
    path = save(cloud(colors=False), tmp_path / "a.ply")
    with pytest.raises(AssertionError, match="no colours"):
        selftest.check_ply(path)


def test_check_ply_rejects_collapsed_points(tmp_path: Path) -> None:
    same = PointCloud(np.zeros((8, 3), np.float32), np.ones((8, 3), np.float32))
    with pytest.raises(AssertionError, match="one place"):
        selftest.check_ply(save(same, tmp_path / "a.ply"))


def test_summary_is_one_line() -> None:
    ok = selftest.Outcome(ok=True, notes={"ply": "5 points", "generate_s": 1.0, "total_s": 2.0})
    line = selftest.summary(ok)
    assert line.startswith("SELFTEST OK: 5 points") and "\n" not in line
    bad = selftest.summary(selftest.Outcome(ok=False, reason="boom"))
    assert bad.startswith("SELFTEST FAILED: boom") and "\n" not in bad


@pytest.mark.slow
@pytest.mark.gui
def test_selftest_from_source_passes_and_leaves_no_history(tmp_path: Path) -> None:
    """`python main.py --selftest` under the test display: one OK line, exit 0."""
    if not os.environ.get("DISPLAY"):
        pytest.skip("needs a display (pytest-xvfb starts Xvfb)")
    home = tmp_path / "user-home"
    env = dict(os.environ, POINTE_STUDIO_HOME=str(home), HF_HUB_OFFLINE="1")
    report = tmp_path / "report.txt"
    run = subprocess.run(
        [sys.executable, "main.py", "--selftest", "--report", str(report)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    lines = [line for line in run.stdout.splitlines() if line.startswith("SELFTEST")]
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("SELFTEST OK: "), run.stdout
    assert "points, finite" in lines[0] and "colours" in lines[0]
    assert report.read_text().strip() == lines[0]
    assert not home.exists()  # the self-test used its own temporary home

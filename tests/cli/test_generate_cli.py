"""`main.py generate` end to end in a subprocess: a real file comes out, errors are one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, POINTE_STUDIO_HOME=str(tmp_path / "home"), HF_HUB_OFFLINE="1")
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_generate_writes_a_point_cloud(tmp_path):
    out = tmp_path / "cloud.ply"
    res = _cli(
        "generate",
        "--prompt",
        "a red cube",
        "--model",
        "tiny-random",
        "--steps",
        "2",
        "--out",
        str(out),
        tmp_path=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    from engine.export import load

    cloud = load(out)
    assert len(cloud) == 1024 and cloud.colors is not None
    assert np.isfinite(cloud.coords).all()
    assert "wrote" in res.stdout


def test_generate_errors_are_one_clear_line(tmp_path):
    res = _cli(
        "generate",
        "--prompt",
        "",
        "--model",
        "tiny-random",
        "--out",
        str(tmp_path / "x.ply"),
        tmp_path=tmp_path,
    )
    assert res.returncode == 1
    assert res.stderr.strip().startswith("error: Type a prompt")
    assert "Traceback" not in res.stderr
    res = _cli(
        "generate",
        "--prompt",
        "a cube",
        "--model",
        "base40M-textvec",
        "--out",
        str(tmp_path / "x.ply"),
        tmp_path=tmp_path,
    )
    assert res.returncode == 1 and "models download" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "x.ply").exists()

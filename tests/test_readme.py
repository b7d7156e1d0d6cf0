"""The README's Python API example runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_python_api_example_runs(tmp_path):
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Python API", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    env = dict(os.environ, PYTHONPATH=str(ROOT), POINTE_STUDIO_HOME=str(tmp_path / "home"))
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    first, second = res.stdout.split("\n")[:2]
    assert first == "4096 builtin-text ['dpmpp_2m', 'dpmpp_2m']"  # base, then its upsampler
    assert second == "torch.Size([1, 6, 128])"
    assert (tmp_path / "cube.ply").stat().st_size > 1024 * 15

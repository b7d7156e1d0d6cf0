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
        "generate", "--prompt", "a red cube", "--steps", "2", "--out", str(out), tmp_path=tmp_path
    )
    assert res.returncode == 0, res.stderr
    from engine.export import load

    cloud = load(out)
    assert len(cloud) == 4096 and cloud.colors is not None  # base + built-in upsampler
    assert np.isfinite(cloud.coords).all()
    assert "wrote" in res.stdout


def test_fast_preset_and_variations_from_the_built_in_model(tmp_path):
    """--preset fast equals engine.generate(preset="fast"); --variations writes one PLY a seed."""
    import engine
    from engine.export import load

    out = tmp_path / "fast.ply"
    res = _cli(
        "generate", "--prompt", "a red cube", "--preset", "fast", "--out", str(out),
        tmp_path=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    expected = engine.generate(prompt="a red cube", preset="fast")
    np.testing.assert_allclose(load(out).coords, expected.coords, atol=1e-5)
    folder = tmp_path / "variations"
    res = _cli(
        "generate", "--prompt", "a blue sphere", "--seed", "7", "--variations", "3",
        "--steps", "4", "--out", f"{folder}/", tmp_path=tmp_path,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["seed-7.ply", "seed-8.ply", "seed-9.ply"]
    clouds = [load(folder / n) for n in names]
    assert all(len(c) == 1024 for c in clouds)  # the candidates: base clouds
    assert not np.allclose(clouds[0].coords, clouds[1].coords)
    # variation i is the cloud a single run with seed 7 + i makes (to float rounding: a batch
    # of 3 sums its matrix products in another order than a batch of 1)
    single = engine.generate(prompt="a blue sphere", seed=8, steps=4, upsample=False)
    np.testing.assert_allclose(clouds[1].coords, single.coords, atol=1e-3)
    other = engine.generate(prompt="a blue sphere", seed=12, steps=4, upsample=False)
    assert np.abs(clouds[1].coords - other.coords).max() > 0.1


def test_generate_errors_are_one_clear_line(tmp_path):
    res = _cli("generate", "--prompt", "", "--out", str(tmp_path / "x.ply"), tmp_path=tmp_path)
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


def test_generate_from_picture_and_via_image(tmp_path, examples_dir):
    """Both picture routes from the CLI, against tiny models installed in the user's store."""
    from tests.engine.tiny_models import tiny_sd_pipeline
    from tests.tiny_store import build_tiny_store

    src = tmp_path / "src"
    src.mkdir()
    build_tiny_store(tmp_path / "home" / "models", src)
    out = tmp_path / "corgi.npz"
    res = _cli(
        "generate",
        "--image",
        str(examples_dir / "corgi.jpg"),
        "--steps",
        "2",
        "--out",
        str(out),
        tmp_path=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    from engine.export import load

    assert len(load(out)) == 256
    sd = tiny_sd_pipeline(tmp_path / "tiny-sd")
    out2 = tmp_path / "chair.ply"
    res = _cli(
        "generate",
        "--prompt",
        "a red chair",
        "--via-image",
        "--image-model",
        str(sd),
        "--steps",
        "2",
        "--out",
        str(out2),
        tmp_path=tmp_path,
    )
    assert res.returncode == 0, res.stderr
    assert "image" in res.stderr and len(load(out2)) == 256


def test_unexpected_failures_are_one_line_too(tmp_path, monkeypatch, capsys):
    """A failure no command foresaw is one line with a hint, not a traceback."""
    import engine.export
    from cli import run_cli

    def broken_save(*_a, **_k):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(engine.export, "save", broken_save)
    out = tmp_path / "x.ply"
    code = run_cli(
        [
            "generate",
            "--prompt",
            "a red cube",
            "--model",
            "tiny-random",
            "--steps",
            "1",
            "--out",
            str(out),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "error: unexpected problem: RuntimeError: simulated bug (run again with -v for details)"
    )
    assert "Traceback" not in err and not out.exists()


def test_the_second_run_prints_an_estimate(tmp_path):
    args = ("generate", "--prompt", "a red cube", "--steps", "3", "--out", str(tmp_path / "a.ply"))
    first = _cli(*args, tmp_path=tmp_path)
    assert first.returncode == 0 and "estimated time" not in first.stderr
    second = _cli(*args, tmp_path=tmp_path)  # the same computer and profile: timed now
    assert second.returncode == 0 and "estimated time: about" in second.stderr

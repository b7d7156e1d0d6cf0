"""`python main.py models ...` end to end against a local server (POINTE_MIRROR_URL)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from cli import run_cli
from engine.checkpoints.settings import write_json
from tests.ckpt_testing import FileServer, Payload, ServerState, all_tiny_overrides, pt_bytes
from tests.ckpt_testing import tiny_state_dict as tiny

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A studio home whose store builds reduced-size models, and a server behind the mirror var."""
    state = ServerState(
        files={
            "/mirror/sdf.pt": pt_bytes(tiny("sdf")),
            "/mirror/base_40m_textvec.pt": pt_bytes(tiny("base40M-textvec")),
        }
    )
    home = tmp_path / "home"
    write_json(
        home / "models" / "settings.json",
        {"model_overrides": all_tiny_overrides(), "extra_mirrors": []},
    )
    with FileServer(state) as srv:
        monkeypatch.setenv("POINTE_STUDIO_HOME", str(home))
        monkeypatch.setenv("POINTE_MIRROR_URL", srv.url + "/mirror")
        yield srv, home


def test_list_download_verify_remove(env, capsys):
    srv, home = env
    assert run_cli(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert str(home / "models") in out
    assert "sdf" in out and "available" in out and "clip-vit-l-14" in out

    srv.state.drop_after["/mirror/sdf.pt"] = [20_000]  # one dropped connection on the way
    assert run_cli(["models", "download", "sdf", "base40M-textvec"]) == 0
    captured = capsys.readouterr()
    assert "sdf: installed" in captured.out and "base40M-textvec: installed" in captured.out
    assert "resuming" in captured.err and "100.0%" in captured.err
    assert [r["path"] for r in srv.state.requests] == ["/mirror/sdf.pt"] * 2 + [
        "/mirror/base_40m_textvec.pt"
    ]
    assert (home / "models" / "sdf" / "sdf.safetensors").is_file()

    assert run_cli(["models", "list"]) == 0
    assert any(
        line.split()[:2] == ["sdf", "installed"] for line in capsys.readouterr().out.splitlines()
    )
    assert run_cli(["models", "verify"]) == 0
    assert capsys.readouterr().out.splitlines() == ["base40M-textvec: ok", "sdf: ok"]

    (home / "models" / "sdf" / "sdf.safetensors").write_bytes(b"bitrot")
    assert run_cli(["models", "verify", "sdf"]) == 1
    assert "sdf: FAILED" in capsys.readouterr().out

    assert run_cli(["models", "remove", "sdf"]) == 0
    assert "sdf: removed" in capsys.readouterr().out
    assert not (home / "models" / "sdf").exists()


def test_clear_errors(env, capsys, tmp_path):
    srv, _ = env
    assert run_cli(["models", "download", "base2B"]) == 1
    assert "unknown model(s): base2B" in capsys.readouterr().err
    marker = tmp_path / "pwned"
    srv.state.files["/mirror/sdf.pt"] = pt_bytes(Payload(marker))
    assert run_cli(["models", "download", "sdf"]) == 1
    err = capsys.readouterr().err
    assert "\nerror: Refused sdf.pt" in err and "Traceback" not in err
    assert not marker.exists()
    assert run_cli(["models", "import", str(tmp_path / "nowhere")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_import_folder(env, capsys, tmp_path):
    cache = tmp_path / "point_e_model_cache"
    cache.mkdir()
    torch.save(tiny("base40M-textvec"), cache / "base_40m_textvec.pt")
    torch.save(tiny("upsample"), cache / "upsample_40m.pt")
    assert run_cli(["models", "import", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "installed as base40M-textvec" in out and "installed as upsample" in out


@pytest.mark.slow  # a fresh interpreter imports torch: seconds on a busy machine
def test_main_py_in_a_subprocess(env, tmp_path):
    _, home = env
    proc = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "models", "download", "sdf"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "sdf: installed" in proc.stdout and "sdf:" in proc.stderr
    assert (home / "models" / "sdf" / "sdf.safetensors").is_file()
    assert list(tmp_path.iterdir()) == [home]  # nothing written to the working folder

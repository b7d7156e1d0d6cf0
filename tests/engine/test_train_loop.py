"""A short seeded training run lowers the loss, resumes exactly, and exports loadable weights."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from engine.diffusion import NoiseSchedule
from engine.embedded import generate, load_from
from engine.train import trainer
from engine.train.dataset import make_batch
from engine.train.export import export_checkpoint

TINY = dataclasses.replace(trainer.PRESETS["tiny"], seed=3)


def _fixed_loss(state: trainer.TrainState) -> float:
    """Loss of the current weights on one fixed batch with fixed steps and noise."""
    state.net.eval()  # no classifier-free dropout while measuring
    with torch.no_grad():
        caps, x, *_ = make_batch(99, 0, 32, 64)
        gen = torch.Generator().manual_seed(0)
        loss = trainer.loss_on_batch(state.net, NoiseSchedule.from_name("cosine"), caps, x, gen)
    state.net.train()
    return float(loss)


def test_short_training_run_lowers_the_loss(tmp_path: Path) -> None:
    state = trainer.new_state(TINY)
    before = _fixed_loss(state)
    trainer.train(state, tmp_path, max_steps=25)
    after = _fixed_loss(state)
    assert state.step == 25
    assert after < 0.8 * before, (before, after)
    assert (tmp_path / "last.pt").is_file()


def test_resume_continues_exactly(tmp_path: Path) -> None:
    straight = trainer.new_state(TINY)
    trainer.train(straight, tmp_path / "a", max_steps=6)
    first = trainer.new_state(TINY)
    trainer.train(first, tmp_path / "b", max_steps=3)
    resumed = trainer.state_from_checkpoint(trainer.load_checkpoint(tmp_path / "b" / "last.pt"))
    assert resumed.step == 3
    trainer.train(resumed, tmp_path / "b", max_steps=6)
    for (k, a), b in zip(
        straight.ema.state_dict().items(), resumed.ema.state_dict().values(), strict=True
    ):
        torch.testing.assert_close(a, b, msg=k)


def test_export_writes_safetensors_that_load_and_sample(tmp_path: Path) -> None:
    state = trainer.new_state(TINY)
    trainer.train(state, tmp_path, max_steps=2)
    paths = export_checkpoint(tmp_path / "last.pt", tmp_path / "export")
    weights = load_file(str(paths[0]))
    assert {k.split(".")[0] for k in weights} == {"model", "encoder"}
    config = json.loads(paths[1].read_text())
    assert config["model"]["clip_dim"] == TINY.cond_dim
    assert config["training"]["steps"] == 2
    emb = load_from(tmp_path / "export")
    assert not emb.model.training and not emb.encoder.training
    x = generate(emb, ["a red cube"], seed=0, steps=3, n_points=64)
    assert x.shape == (1, 6, 64)
    assert emb.model.config.n_ctx == 1024  # sampling at 64 points did not leak into the model
    assert torch.isfinite(x).all()


def test_damaged_weights_give_a_clear_error(tmp_path: Path) -> None:
    from engine.errors import CheckpointError

    state = trainer.new_state(TINY)
    trainer.train(state, tmp_path, max_steps=1)
    paths = export_checkpoint(tmp_path / "last.pt", tmp_path / "export")
    paths[0].write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError):
        load_from(tmp_path / "export")
    with pytest.raises(CheckpointError, match="missing"):
        load_from(tmp_path / "nowhere")


def test_cli_reports_missing_arguments(tmp_path: Path, capsys) -> None:
    from cli import run_cli

    assert run_cli(["train"]) == 1
    assert "--out" in capsys.readouterr().err
    assert run_cli(["train", "--out", str(tmp_path), "--lr", "1e-3"]) == 1  # an experiment
    assert "--minutes" in capsys.readouterr().err
    assert run_cli(["train", "--export", str(tmp_path / "nope.pt")]) == 1
    assert "not found" in capsys.readouterr().err


def test_high_noise_weighting_leaves_low_noise_alone() -> None:
    torch.manual_seed(0)
    state = trainer.new_state(TINY)
    caps, x, *_ = make_batch(1, 0, 4, 32)
    schedule = NoiseSchedule.from_name("cosine")

    def loss(weight_cap: float, seed: int) -> float:
        with torch.no_grad():
            g = torch.Generator().manual_seed(seed)
            return float(trainer.loss_on_batch(state.net.eval(), schedule, caps, x, g, weight_cap))

    plain, weighted = loss(1.0, 5), loss(20.0, 5)
    assert weighted >= plain  # every weight is >= 1
    # an untrained network predicts zero noise: loss ~1 per sample, so the weighted mean is
    # the mean weight, which lies in (1, 20]
    assert 1.0 < weighted <= 20.0 * plain + 1e-6


def test_switch_to_additive_conditioning_keeps_the_weights_loadable(tmp_path: Path) -> None:
    state = trainer.new_state(TINY)
    trainer.train(state, tmp_path, max_steps=2)
    trainer.use_additive_cond(state)
    assert not state.net["model"].config.token_cond
    trainer.train(state, tmp_path, max_steps=4)
    paths = export_checkpoint(tmp_path / "last.pt", tmp_path / "export")
    emb = load_from(tmp_path / "export")
    assert not emb.model.config.token_cond
    assert json.loads(paths[1].read_text())["model"]["token_cond"] is False

"""Growing the text model's transformer by whole blocks: the grown network computes what the
trained one did, the new blocks then learn, and a grown run checkpoints, resumes and exports."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from engine.embedded import load_from
from engine.train import recipe, trainer
from engine.train.export import export_checkpoint

TINY = dataclasses.replace(trainer.PRESETS["tiny"], seed=11)


def _trained_state(tmp_path: Path) -> trainer.TrainState:
    state = trainer.new_state(TINY)
    trainer.train(state, tmp_path / "run", max_steps=3)
    return state


def _predict(net: torch.nn.ModuleDict) -> torch.Tensor:
    model = net["model"]
    trainer.set_points(model, 64)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 6, 64, generator=gen)
    t = torch.tensor([10, 700])
    cond = net["encoder"].encode(["a red cube", "a blue mushroom with a white stem"])
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(x, t, cond)
    finally:
        model.train(was)


def test_grown_network_predicts_exactly_what_it_did(tmp_path: Path) -> None:
    state = _trained_state(tmp_path)
    before_net, before_ema = _predict(state.net), _predict(state.ema)
    n_before = sum(p.numel() for p in state.net.parameters())
    trainer.grow_layers(state, 3)
    assert state.config.layers == 3
    assert len(state.net["model"].backbone.resblocks) == 3
    assert len(state.ema["model"].backbone.resblocks) == 3
    assert sum(p.numel() for p in state.net.parameters()) > n_before
    torch.testing.assert_close(_predict(state.net), before_net, rtol=0, atol=0)
    torch.testing.assert_close(_predict(state.ema), before_ema, rtol=0, atol=0)
    optimised = {id(p) for g in state.opt.param_groups for p in g["params"]}
    assert all(id(p) in optimised for p in state.net.parameters())


def test_new_blocks_learn(tmp_path: Path) -> None:
    state = _trained_state(tmp_path)
    trainer.grow_layers(state, 2)
    proj = state.net["model"].backbone.resblocks[1].mlp.c_proj.weight
    assert proj.abs().max() == 0
    trainer.train(state, tmp_path / "run", max_steps=state.step + 2)
    assert proj.abs().max() > 0


def test_shrinking_is_refused(tmp_path: Path) -> None:
    state = trainer.new_state(dataclasses.replace(TINY, layers=2))
    with pytest.raises(ValueError, match="shrink"):
        trainer.grow_layers(state, 1)


def test_a_phase_grows_once_and_the_run_resumes_and_exports(tmp_path: Path) -> None:
    phases = (recipe.Phase(until=2), recipe.Phase(until=4, layers=3, restart_from_ema=True))
    state = trainer.new_state(TINY)
    recipe.run_recipe(state, tmp_path / "run", phases)
    assert state.step == 4 and state.config.layers == 3
    recipe.apply_overrides(state, phases[1], 2)  # idempotent: a resumed run does not grow again
    assert len(state.net["model"].backbone.resblocks) == 3
    ckpt = trainer.load_checkpoint(tmp_path / "run" / "last.pt")
    resumed = trainer.state_from_checkpoint(ckpt)
    assert resumed.config.layers == 3
    torch.testing.assert_close(_predict(resumed.ema), _predict(state.ema), rtol=0, atol=0)
    export_checkpoint(tmp_path / "run" / "last.pt", tmp_path / "out")
    emb = load_from(tmp_path / "out")
    assert emb.config["model"]["layers"] == 3
    torch.testing.assert_close(
        _predict(torch.nn.ModuleDict({"model": emb.model, "encoder": emb.encoder})),
        _predict(state.ema),
        rtol=0,
        atol=0,
    )

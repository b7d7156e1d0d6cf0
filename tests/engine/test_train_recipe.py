"""The shipped training recipe: phases apply their switches, and a run resumed between (or
inside) phases ends with the same weights as one straight run."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import torch

from engine.embedded import CONFIG_FILE, RESOURCE_DIR
from engine.train import recipe, trainer

TINY = dataclasses.replace(trainer.PRESETS["tiny"], seed=5)
PHASES = (
    recipe.Phase(until=2, max_loss_weight=1.0),
    recipe.Phase(until=4, additive_cond=True, max_loss_weight=20.0),
    recipe.Phase(until=7, bag_encoder_lr=1e-3, anneal_steps=10, ema=0.8),
)


def _same_weights(a: trainer.TrainState, b: trainer.TrainState) -> None:
    for (k, x), y in zip(a.ema.state_dict().items(), b.ema.state_dict().values(), strict=True):
        torch.testing.assert_close(x, y, msg=k)


def test_phases_switch_the_run_as_declared(tmp_path: Path) -> None:
    seen: list[tuple[int, float, bool, str]] = []

    def on_phase(index: int, phase: recipe.Phase) -> None:
        c = state.config
        seen.append((index, c.max_loss_weight, c.token_cond, c.enc_mode))

    state = trainer.new_state(TINY)
    assert state.config.token_cond and state.config.enc_mode == "transformer"
    recipe.run_recipe(state, tmp_path, PHASES, on_phase=on_phase)
    assert state.step == 7 and recipe.finished(state, PHASES)
    assert seen == [
        (0, 1.0, True, "transformer"),
        (1, 20.0, False, "transformer"),
        (2, 20.0, False, "bag"),  # unset fields keep the previous phase's value
    ]
    c = state.config
    assert (c.anneal_from, c.anneal_steps, c.ema, c.lr) == (4, 10, 0.8, 1e-3)
    assert not state.net["model"].config.token_cond


@pytest.mark.parametrize("stop_at", [2, 5])  # between phases, and inside the last one
def test_resumed_recipe_matches_a_straight_run(tmp_path: Path, stop_at: int) -> None:
    straight = trainer.new_state(TINY)
    recipe.run_recipe(straight, tmp_path / "a", PHASES)

    first = trainer.new_state(TINY)
    # the recipe as far as stop_at: the phase holding stop_at is cut short there
    current = next(p for p in PHASES if p.until >= stop_at)
    cut = [*(p for p in PHASES if p.until < stop_at), dataclasses.replace(current, until=stop_at)]
    recipe.run_recipe(first, tmp_path / "b", cut)
    resumed = trainer.state_from_checkpoint(trainer.load_checkpoint(tmp_path / "b" / "last.pt"))
    assert resumed.step == stop_at
    recipe.run_recipe(resumed, tmp_path / "b", PHASES)
    assert resumed.step == 7
    _same_weights(straight, resumed)


def test_cli_replays_the_recipe_and_continues_its_folder(
    tmp_path: Path, monkeypatch, capsys
) -> None:
    from cli import run_cli

    monkeypatch.setattr(recipe, "RECIPE", PHASES)
    out = tmp_path / "run"
    assert run_cli(["train", "--out", str(out), "--preset", "tiny", "--seed", "5"]) == 0
    text = capsys.readouterr().out
    assert "phase 3/3" in text and "recipe finished at step 7" in text
    assert trainer.load_checkpoint(out / "last.pt")["step"] == 7
    assert run_cli(["train", "--out", str(out)]) == 0  # finds last.pt: nothing left to do
    assert "recipe finished at step 7" in capsys.readouterr().out


def test_shipped_weights_come_from_the_end_of_the_recipe() -> None:
    """The model card's recipe and the shipped file agree on where training stopped."""
    steps = [p.until for p in recipe.RECIPE]
    assert steps == sorted(set(steps))
    config = json.loads((RESOURCE_DIR / CONFIG_FILE).read_text())
    assert config["training"]["steps"] == recipe.RECIPE[-1].until

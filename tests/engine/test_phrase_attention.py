"""Phrase attention of the built-in text model: the prompt's two phrase vectors, a model that
starts as the trained one, learns, drops both conditionings together, and survives the
checkpoint, export and load round trip."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from engine.embedded import load_from, text_conditioning
from engine.models import build_model
from engine.train import recipe, trainer
from engine.train.export import export_checkpoint

TINY = dataclasses.replace(
    trainer.PRESETS["tiny"], seed=13, enc_mode="bag", token_cond=False, generation=2
)
PROMPTS = ["a red cube", "a white vase with a purple neck", "a purple vase with a white neck"]


def _trained_state(tmp_path: Path) -> trainer.TrainState:
    state = trainer.new_state(TINY)
    trainer.train(state, tmp_path / "run", max_steps=3)
    return state


def _predict(net: torch.nn.ModuleDict, prompts: list[str] = PROMPTS) -> torch.Tensor:
    model = net["model"]
    trainer.set_points(model, 64)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(len(prompts), 6, 64, generator=gen)
    t = torch.tensor([10, 400, 700][: len(prompts)])
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(x, t, **text_conditioning(net["encoder"], model, prompts))
    finally:
        model.train(was)


def test_phrases_split_at_with_and_keep_the_colours_apart(tmp_path: Path) -> None:
    enc = _trained_state(tmp_path).net["encoder"]
    with torch.no_grad():
        phrases = enc.encode_phrases(PROMPTS)
    assert phrases.shape == (3, 2, TINY.cond_dim)
    assert phrases[0, 1].abs().max() == 0  # no "with": no part phrase
    torch.testing.assert_close(phrases[1:, 0].norm(dim=-1), torch.ones(2))
    torch.testing.assert_close(phrases[1:, 1].norm(dim=-1), torch.ones(2))
    # the part phrase is the part's words alone, read from the part table
    with torch.no_grad():
        alone = enc.encode_phrases(
            ["a white vase with a purple neck", "a red vase with a purple neck"]
        )
    torch.testing.assert_close(alone[0, 1], alone[1, 1])
    assert not torch.allclose(alone[0, 0], alone[1, 0])
    assert not torch.allclose(phrases[1, 1], phrases[2, 1])  # purple neck vs white neck


def test_the_transformer_encoder_has_no_phrases() -> None:
    state = trainer.new_state(dataclasses.replace(TINY, enc_mode="transformer"))
    with pytest.raises(ValueError, match="bag"):
        state.net["encoder"].encode_phrases(["a red cube"])
    with pytest.raises(ValueError, match="bag"):
        trainer.use_phrase_attention(state)


def test_added_phrase_attention_predicts_exactly_what_the_model_did(tmp_path: Path) -> None:
    state = _trained_state(tmp_path)
    before_net, before_ema = _predict(state.net), _predict(state.ema)
    assert before_net.abs().max() > 0  # a trained output layer: the comparison means something
    trainer.use_phrase_attention(state, 2)
    assert state.config.phrase_tokens == 2
    for net in (state.net, state.ema):
        assert net["model"].config.phrase_tokens == 2
        assert len(net["model"].phrase_attn) == TINY.layers
    torch.testing.assert_close(_predict(state.net), before_net, rtol=0, atol=0)
    torch.testing.assert_close(_predict(state.ema), before_ema, rtol=0, atol=0)
    optimised = {id(p) for g in state.opt.param_groups for p in g["params"]}
    assert all(id(p) in optimised for p in state.net.parameters())
    assert not any(p.requires_grad for p in state.ema.parameters())


def test_phrase_attention_learns_and_reads_the_part_phrase(tmp_path: Path) -> None:
    state = _trained_state(tmp_path)
    trainer.use_phrase_attention(state, 2)
    proj = state.net["model"].phrase_attn[0].attn.c_proj.weight
    assert proj.abs().max() == 0
    trainer.train(state, tmp_path / "run", max_steps=state.step + 3)
    assert proj.abs().max() > 0
    # the part phrase now changes the prediction through the new path: same summed vector,
    # different phrases
    model, enc = state.net["model"].eval(), state.net["encoder"]
    trainer.set_points(model, 64)
    x = torch.randn(1, 6, 64, generator=torch.Generator().manual_seed(1))
    t = torch.tensor([300])
    with torch.no_grad():
        cond = text_conditioning(enc, model, ["a white vase with a purple neck"])
        swapped = enc.encode_phrases(["a white vase with a white neck"])
        a = model(x, t, **cond)
        b = model(x, t, embeddings=cond["embeddings"], phrases=swapped)
    assert (a - b).abs().max() > 1e-6


def test_dropout_drops_the_vector_and_the_phrases_together() -> None:
    model = build_model(
        "base40M-textvec", width=32, layers=1, heads=2, n_ctx=16, clip_dim=8, token_cond=False,
        phrase_tokens=2, cond_drop_prob=0.5,
    )  # fmt: skip
    model.train()
    torch.manual_seed(0)
    rows = torch.cat([torch.ones(64, 1, 8), torch.full((64, 2, 8), 2.0)], dim=1)
    dropped = model._drop_cond(rows)
    gone = dropped.abs().sum(dim=(1, 2)) == 0
    kept = (dropped == rows).all(dim=2).all(dim=1)
    assert gone.any() and kept.any()
    assert bool((gone | kept).all())  # no row keeps the vector but loses its phrases


def test_shapes_are_checked_and_an_official_model_takes_no_phrases() -> None:
    model = build_model(
        "base40M-textvec", width=32, layers=1, heads=2, n_ctx=16, clip_dim=8, phrase_tokens=2
    )
    x, t = torch.randn(1, 6, 16), torch.tensor([5])
    with pytest.raises(ValueError, match=r"phrases must have shape \[1, 2, 8\]"):
        model(x, t, torch.randn(1, 8), torch.randn(1, 3, 8))
    plain = build_model("base40M-textvec", width=32, layers=1, heads=2, n_ctx=16, clip_dim=8)
    assert not any("phrase" in k for k in plain.state_dict())
    with pytest.raises(ValueError, match="takes no phrases"):
        plain(x, t, torch.randn(1, 8), torch.randn(1, 2, 8))
    with pytest.raises(ValueError, match="phrase_tokens"):
        build_model("base40M-textvec", width=32, layers=1, heads=2, phrase_tokens=-1)


def test_a_phase_adds_it_once_then_grows_resumes_and_exports(tmp_path: Path) -> None:
    phases = (
        recipe.Phase(until=2),
        recipe.Phase(until=4, phrase_tokens=2, restart_from_ema=True),
        recipe.Phase(until=5, layers=2),
    )
    state = trainer.new_state(TINY)
    recipe.run_recipe(state, tmp_path / "run", phases)
    assert state.step == 5 and state.config.phrase_tokens == 2
    assert len(state.net["model"].phrase_attn) == 2  # the grown block has its own
    recipe.apply_overrides(state, phases[1], 2)  # idempotent on a resumed run
    resumed = trainer.state_from_checkpoint(trainer.load_checkpoint(tmp_path / "run" / "last.pt"))
    assert resumed.config.phrase_tokens == 2
    torch.testing.assert_close(_predict(resumed.ema), _predict(state.ema), rtol=0, atol=0)
    export_checkpoint(tmp_path / "run" / "last.pt", tmp_path / "out")
    emb = load_from(tmp_path / "out")
    assert emb.config["model"]["phrase_tokens"] == 2
    torch.testing.assert_close(
        _predict(torch.nn.ModuleDict({"model": emb.model, "encoder": emb.encoder})),
        _predict(state.ema),
        rtol=0,
        atol=0,
    )
    grown = trainer.state_from_export(tmp_path / "out")
    assert grown.config.phrase_tokens == 2

"""The second generation of the built-in model: new objects and part captions, a vocabulary
that grows without forgetting, the phase that continues from the shipped weights, and the
built-in upsampler (training, export, loading, sampling)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.diffusion import NoiseSchedule
from engine.embedded import load_from, load_upsampler_from, upsample
from engine.errors import CheckpointError
from engine.train import recipe, trainer
from engine.train.captions import (
    FIRST_OBJECTS,
    HELD_OUT_OBJECTS,
    object_caption,
    random_spec,
    vocabulary,
)
from engine.train.dataset import make_batch, render_parts
from engine.train.export import export_checkpoint
from engine.train.metrics import nearest, object_templates, object_truth, part_colour_errors
from engine.train.shapes import COMPOSITES

NEW_OBJECTS = ("vase", "bowl", "pawn", "rocket", "duck")


def test_first_generation_stream_is_unchanged() -> None:
    """Generation 1 draws exactly what the first model was trained on (recorded before the
    second generation was added), so its recipe still replays."""
    recorded = {
        0: ["a tall red cylinder", "a wide blue pyramid", "a box in purple", "a pink sphere",
            "a flat yellow torus", "a purple pyramid"],
        1: ["a cylinder", "small tall orange pyramid", "a small yellow torus",
            "a flat white cube", "a pink cylinder", "a grey house"],
        7: ["a small purple pyramid", "a wide cone in orange", "a white mushroom with a pink stem",
            "a cylinder in yellow", "wide grey torus", "a house"],
    }  # fmt: skip
    for step, captions in recorded.items():
        assert make_batch(0, step, 6, 64)[0] == captions
    assert set(vocabulary(1)) >= set(FIRST_OBJECTS) and "vase" not in vocabulary(1)


@pytest.mark.parametrize("kind", NEW_OBJECTS)
def test_new_objects_have_two_parts_inside_the_box(kind: str) -> None:
    xyz, rgb, slot = render_parts(
        random_spec(np.random.default_rng(0)).__class__(kind=kind, colors=("red", "blue")),
        2048,
        np.random.default_rng(1),
        jitter=False,
    )
    assert np.abs(xyz).max() <= 0.5 + 1e-6
    assert {0, 1} <= set(slot.tolist())
    assert np.allclose(rgb[slot == 1], rgb[slot == 1][0])  # the named part has one colour
    assert not np.allclose(rgb[slot == 0][0], rgb[slot == 1][0])


def test_objects_are_told_apart_by_their_templates() -> None:
    templates = object_templates()
    assert set(templates) == set(COMPOSITES)
    for kind in COMPOSITES:
        xyz, _, _ = object_truth(kind, "red", "white", n=1024)
        assert nearest(xyz, templates)[0] == kind


def test_second_generation_captions_bind_part_words() -> None:
    rng = np.random.default_rng(3)
    specs = [random_spec(rng, composite_prob=0.6, generation=2) for _ in range(3000)]
    objects = [s for s in specs if s.kind in COMPOSITES]
    assert 0.55 < len(objects) / len(specs) < 0.65
    assert {s.kind for s in objects} == set(COMPOSITES)
    named = [s for s in objects if " with " in s.caption]
    assert len(named) > 0.5 * len(objects)
    for s in named:  # the part's own word and colour follow "with"
        part = COMPOSITES[s.kind][1]
        tail = s.caption.split(" with ", 1)[1]
        assert tail.endswith(part) and s.colors[1] in tail
        assert (s.kind, *s.colors) not in HELD_OUT_OBJECTS
    assert set(vocabulary(2)) >= {w for s in specs for w in s.caption.split()} - {"a", "the"}


def test_part_colour_errors_score_each_part_against_its_colour() -> None:
    xyz, rgb, slot = object_truth("mushroom", "red", "white")
    right = part_colour_errors(xyz, rgb, xyz, rgb, slot)
    assert right[0] < 1e-6 and right[1] < 1e-6
    swapped = rgb.copy()
    swapped[slot == 0], swapped[slot == 1] = rgb[slot == 1][0], rgb[slot == 0][0]
    wrong = part_colour_errors(xyz, swapped, xyz, rgb, slot)
    assert wrong[0] > 0.4 and wrong[1] > 0.4
    assert object_caption("mushroom", "red", "white") == "a red mushroom with a white stem"
    assert object_caption("table", "black", "red") == "a black table with red legs"


def _tiny_base(tmp_path: Path) -> Path:
    """A tiny generation-1 model with a bag encoder, exported like the shipped one."""
    cfg = dataclasses.replace(trainer.PRESETS["tiny"], seed=2, enc_mode="bag", token_cond=False)
    state = trainer.new_state(cfg)
    trainer.train(state, tmp_path / "run", max_steps=3)
    export_checkpoint(tmp_path / "run" / "last.pt", tmp_path / "model")
    return tmp_path / "model"


def test_second_phase_continues_from_an_exported_model(tmp_path: Path) -> None:
    folder = _tiny_base(tmp_path)
    first = load_from(folder)
    state = trainer.state_from_export(folder, point_cycle=((64, 4),), warmup=2)
    assert state.step == 3 and state.config.generation == 1
    for key, value in first.model.state_dict().items():
        torch.testing.assert_close(state.ema["model"].state_dict()[key], value)
    before = state.ema["encoder"].encode(["a red cube", "a white mushroom with a red stem"])

    phase = dataclasses.replace(recipe.SECOND[0], until=5, point_cycle=((64, 4),))
    recipe.run_recipe(state, tmp_path / "second", (phase,))
    assert state.step == 5 and state.config.generation == 2 and state.config.composite_prob == 0.6
    encoder = state.ema["encoder"]
    assert tuple(encoder.config.vocab) == tuple(vocabulary(2))
    encoder.eval()
    # words it knew keep their learned vectors (2 EMA steps barely move them)...
    after = encoder.encode(["a red cube", "a white mushroom with a red stem"])
    assert torch.nn.functional.cosine_similarity(before, after).min() > 0.98
    # ...and the new ones are understood
    assert encoder.analyse("a blue vase with a white neck")[1] == []
    resumed = trainer.state_from_checkpoint(trainer.load_checkpoint(tmp_path / "second/last.pt"))
    assert resumed.config.generation == 2 and len(resumed.net["encoder"].config.vocab) == 64


def test_upsampler_learns_exports_and_samples(tmp_path: Path) -> None:
    cfg = dataclasses.replace(trainer.PRESETS["tiny-upsampler"], seed=4, lr=3e-3)
    state = trainer.new_state(cfg)
    schedule = NoiseSchedule.from_name("cosine")

    def fixed_loss() -> float:
        state.net.eval()
        with torch.no_grad():
            _, x, *_ = make_batch(77, 0, 16, 64, 0.6, 2)
            gen = torch.Generator().manual_seed(0)
            loss = trainer.upsampler_loss_on_batch(state.net, schedule, x, gen)
        state.net.train()
        return float(loss)

    before = fixed_loss()
    trainer.train(state, tmp_path / "run", max_steps=40)
    assert fixed_loss() < 0.8 * before

    paths = export_checkpoint(tmp_path / "run" / "last.pt", tmp_path / "model")
    assert [p.name for p in paths] == ["upsampler.safetensors", "upsampler.json"]
    up = load_upsampler_from(tmp_path / "model")
    assert not up.training and up.config.n_ctx == 3072 and up.config.cond_ctx == 1024
    low = make_batch(5, 0, 1, 1024, 0.6, 2)[1]
    out = upsample(up, low, seed=1, steps=2, folder=tmp_path / "model")
    assert out.shape == (1, 6, 4096)
    torch.testing.assert_close(out[:, :, :1024], low)  # the base points come first, unchanged
    assert torch.isfinite(out).all()


def test_damaged_upsampler_files_give_a_clear_error(tmp_path: Path) -> None:
    state = trainer.new_state(trainer.PRESETS["tiny-upsampler"])
    trainer.train(state, tmp_path / "run", max_steps=1)
    folder = tmp_path / "model"
    export_checkpoint(tmp_path / "run" / "last.pt", folder)
    weights = folder / "upsampler.safetensors"
    weights.write_bytes(b"\x80\x04not a safetensors file")  # a pickle header: never unpickled
    with pytest.raises(CheckpointError, match="unreadable"):
        load_upsampler_from(folder)
    weights.unlink()
    with pytest.raises(CheckpointError, match="missing"):
        load_upsampler_from(folder)


def test_low_noise_training_draws_only_the_low_noise_steps() -> None:
    """recipe phase 4: the upsampler trains only where its sampling (from copies of the
    low-res points) runs; sigma 0 keeps the whole range."""
    schedule = NoiseSchedule.from_name("cosine")
    abar = schedule.alphas_cumprod
    sigmas = np.sqrt((1 - abar) / abar)
    bound = trainer.steps_up_to(schedule, 0.3)
    assert sigmas[bound - 1] <= 0.3 < sigmas[bound]
    assert trainer.steps_up_to(schedule, 0.0) == schedule.timesteps
    x = torch.zeros(256, 6, 8)
    for max_sigma, expect_high in ((0.3, False), (0.0, True)):
        seen = []

        def predict(xt, t, seen=seen):
            seen.append(t)
            return torch.zeros(xt.shape[0], 12, xt.shape[2])

        gen = torch.Generator().manual_seed(0)
        trainer.diffusion_loss(predict, schedule, x, gen, 30.0, max_sigma)
        assert bool(seen[0].max() >= bound) is expect_high
    assert seen[0].min() >= 0


def test_upsampler_can_start_from_copies_of_the_low_res_points(tmp_path: Path) -> None:
    """start "low_res": new point k starts as low-res point k mod L plus a little noise, so a
    short run from sigma 0.01 leaves each new point beside its source point, colour and all."""
    from engine.stages import Stage, low_res_copies, sample_stages

    state = trainer.new_state(trainer.PRESETS["tiny-upsampler"])
    up = state.ema["model"].eval()
    trainer.set_points(up, 3072, 1024)
    low = make_batch(5, 0, 1, 1024, 0.6, 2)[1]
    copies = low_res_copies(low, 3072)
    assert torch.equal(copies[:, :, 1024 + 7], low[:, :, 7])

    def run(start: str) -> torch.Tensor:
        stage = Stage(
            name="upsample", model=up, schedule=NoiseSchedule.from_name("cosine"),
            n_points=3072, guidance=0.0, steps=3, sigma_max=0.01, uses_low_res=True,
            start=start,
        )  # fmt: skip
        gen = torch.Generator().manual_seed(0)
        run = sample_stages([stage], generator=gen, low_res=low)
        while True:
            try:
                next(run)
            except StopIteration as done:
                return done.value

    out = run("low_res")
    torch.testing.assert_close(out[:, :, :1024], low)
    new = out[:, :, 1024:]
    assert (new[:, :3] - copies[:, :3]).abs().max() < 0.05  # data units: the box is +-0.5
    assert (new[:, 3:] - copies[:, 3:]).abs().max() < 8  # RGB levels of 255
    assert (run("noise")[:, :3, 1024:] - copies[:, :3]).abs().mean() > 0.1
    with pytest.raises(ValueError, match="only an upsampling stage"):
        Stage(name="base", model=up, schedule=NoiseSchedule.from_name("cosine"),
              n_points=8, start="low_res")  # fmt: skip


def test_a_phase_can_restart_from_the_ema_weights_within_a_generation(tmp_path: Path) -> None:
    """recipe.THIRD: a fresh optimizer on the EMA weights at the phase's first step, also when
    the generation stays the same, so a replay and `--from-model` start the phase alike."""
    cfg = dataclasses.replace(trainer.PRESETS["tiny"], seed=3, generation=2)
    state = trainer.new_state(cfg)
    trainer.train(state, tmp_path / "a", max_steps=4)
    pairs = list(zip(state.net.parameters(), state.ema.parameters(), strict=True))
    assert any(not torch.equal(p, q) for p, q in pairs)
    phase = dataclasses.replace(recipe.THIRD[0], until=6, point_cycle=((64, 4),))
    recipe.apply_overrides(state, phase, start=4)
    for p, q in zip(state.net.parameters(), state.ema.parameters(), strict=True):
        torch.testing.assert_close(p, q)
    assert not state.opt.state  # a fresh optimizer
    trainer.train(state, tmp_path / "a", max_steps=5)
    before = [p.detach().clone() for p in state.net.parameters()]
    recipe.apply_overrides(state, phase, start=4)  # resumed inside the phase: no second restart
    assert all(torch.equal(a, b) for a, b in zip(before, state.net.parameters(), strict=True))


def test_part_weights_give_each_part_the_same_total() -> None:
    """A duck's beak is 3% of its points: balanced, it weighs as much as the body up to the
    cap; a one-part cloud (a primitive) keeps weight 1 everywhere; every cloud's mean is 1."""
    from engine.train.dataset import part_weights

    slots = torch.zeros(3, 100, dtype=torch.long)
    slots[0, :30] = 1  # 30% / 70%: under the cap, so both parts total the same
    slots[1, :3] = 1  # 3% / 97%: the beak's weight stops at 4x the body's
    w = part_weights(slots, cap=4.0)
    assert torch.allclose(w.mean(dim=1), torch.ones(3))
    assert torch.isclose(w[0, :30].sum(), w[0, 30:].sum())
    assert torch.isclose(w[1, 0] / w[1, 50], torch.tensor(4.0))
    assert torch.equal(w[2], torch.ones(100))


def test_balanced_loss_is_the_point_errors_reweighted() -> None:
    """diffusion_loss with part weights is the mean of each point's error times its weight,
    the same batch, noise and steps as without (the data stream is unchanged)."""
    from engine.train.dataset import part_weights, render, to_data_space

    _, x, _, slots = make_batch(3, 0, 4, 128, 1.0, 2)
    rng = np.random.default_rng([3, 0])  # the stream drawn as before slots were returned
    specs = [random_spec(rng, 1.0, 2) for _ in range(4)]
    before = np.stack([to_data_space(*render(spec, 128, rng)) for spec in specs])
    assert torch.equal(x, torch.from_numpy(before))
    schedule = NoiseSchedule.from_name("cosine")

    def predict(xt, t):  # predicts no noise: each point's error is its noise
        return torch.zeros(xt.shape[0], 12, xt.shape[2])

    def loss(weight):
        gen = torch.Generator().manual_seed(0)
        return trainer.diffusion_loss(predict, schedule, x, gen, 1.0, point_weight=weight)

    gen = torch.Generator().manual_seed(0)
    torch.randint(0, schedule.timesteps, (4,), generator=gen)  # the loss's own draws
    err = (torch.randn(x.shape, generator=gen) ** 2).mean(dim=1)  # (B, N)
    w = part_weights(slots, 4.0)
    assert torch.isclose(loss(None), err.mean(), rtol=1e-5)
    assert torch.isclose(loss(w), (err * w).mean(), rtol=1e-5)
    assert not torch.isclose(loss(w), loss(None), rtol=1e-3)


def test_training_with_part_balance_takes_a_different_step(tmp_path: Path) -> None:
    """The train loop passes the weights on: from the same seed and batch, one step with
    part_balance moves the weights differently from one without; the data are the same."""
    cfg = dataclasses.replace(trainer.PRESETS["tiny"], composite_prob=1.0)
    moved = []
    for balance in (0.0, 4.0):
        state = trainer.new_state(dataclasses.replace(cfg, part_balance=balance))
        trainer.train(state, tmp_path / str(balance), max_steps=1)
        moved.append(torch.cat([p.flatten() for p in state.net.parameters()]))
    assert not torch.allclose(moved[0], moved[1])


def test_a_phase_can_switch_part_balance_on() -> None:
    state = trainer.new_state(trainer.PRESETS["tiny"])
    recipe.apply_overrides(state, recipe.Overrides(part_balance=4.0), start=0)
    assert state.config.part_balance == 4.0
    recipe.apply_overrides(state, recipe.Overrides(), start=0)  # None keeps it
    assert state.config.part_balance == 4.0

"""Forward-time cache, the estimate's arithmetic and the live time-left estimate."""

from __future__ import annotations

import dataclasses
import itertools
import json

import pytest
import torch

from engine.models import build_model
from engine.timing import (
    ForwardTimes,
    StagePlan,
    TimeLeft,
    estimate_seconds,
    measure_forward,
)


def test_cache_round_trip_survives_a_new_instance(tmp_path):
    path = tmp_path / "sub" / "times.json"
    cache = ForwardTimes(path)
    key = cache.key("cpu", "base40M-textvec", 2, 1024)
    assert cache.get(key) is None
    cache.put(key, 1.75)
    again = ForwardTimes(path)
    assert again.get(again.key("cpu", "base40M-textvec", 2, 1024)) == 1.75
    assert json.loads(path.read_text())["version"] == 1


def test_a_different_key_is_a_miss(tmp_path):
    cache = ForwardTimes(tmp_path / "times.json")
    key = cache.key("cpu", "upsample", 1, 3072)
    cache.put(key, 10.0)
    for change in (
        {"batch": 2},
        {"points": 1024},
        {"model": "base40M"},
        {"threads": key.threads + 1},
        {"device": "cuda:Some GPU"},
    ):
        assert cache.get(dataclasses.replace(key, **change)) is None, change
    assert cache.get(key) == 10.0


def test_get_or_measure_measures_once(tmp_path):
    cache = ForwardTimes(tmp_path / "times.json")
    key = cache.key("cpu", "base40M", 2, 1024)
    calls = []

    def measure() -> float:
        calls.append(1)
        return 2.5

    assert cache.get_or_measure(key, measure) == 2.5
    assert ForwardTimes(tmp_path / "times.json").get_or_measure(key, measure) == 2.5
    assert len(calls) == 1


@pytest.mark.parametrize("content", ["not json", '{"version": 0, "forward_seconds": {"a": 1}}'])
def test_unreadable_or_old_cache_is_ignored(tmp_path, content):
    path = tmp_path / "times.json"
    path.write_text(content)
    cache = ForwardTimes(path)
    key = cache.key("cpu", "m", 1, 1)
    assert cache.get(key) is None
    cache.put(key, 1.0)  # and is replaced on the next write
    assert ForwardTimes(path).get(key) == 1.0


def test_estimate_arithmetic():
    assert estimate_seconds(2.0, "heun", 64) == pytest.approx(2.0 * 127)
    assert estimate_seconds(2.0, "dpm", 10) == pytest.approx(40.0)
    assert estimate_seconds(0.5, "dpmpp_2m", 16) == pytest.approx(8.0)
    assert estimate_seconds(0.5, "euler", 16) == estimate_seconds(0.5, "euler_ancestral", 16)
    plan = StagePlan.from_forward("base", "heun", 64, 2.0)
    assert plan.seconds_per_step * plan.steps == pytest.approx(254.0)


def test_time_left_starts_at_the_calibration_and_converges_to_the_measured_rate():
    plans = [
        StagePlan(name="base", steps=20, seconds_per_step=1.0),
        StagePlan(name="upsample", steps=10, seconds_per_step=4.0),
    ]
    left = TimeLeft(plans)
    assert left.seconds_left() == pytest.approx(20 * 1.0 + 10 * 4.0)
    # the machine turns out 3x slower than calibrated: 3 s per step
    rates = []
    for k in range(1, 21):
        left.update(0, k, 3.0 * k)
        rates.append(left.rate())
    assert all(a < b < 3.0 for a, b in itertools.pairwise(rates))
    assert rates[-1] == pytest.approx(3.0, abs=0.2)
    # the upsampler's prior is scaled by the drift observed in the base stage
    assert left.seconds_left() == pytest.approx(10 * 4.0 * rates[-1])
    # inside the upsampler at its calibrated rate the estimate is exactly what is left
    for k in range(1, 10):
        assert left.update(1, k, 4.0 * k) == pytest.approx((10 - k) * 4.0)


def test_time_left_without_a_calibration_uses_the_measurement():
    left = TimeLeft([StagePlan(name="base", steps=10, seconds_per_step=0.0)])
    assert left.seconds_left() == 0.0
    assert left.update(0, 4, 8.0) == pytest.approx(6 * 2.0)
    with pytest.raises(ValueError, match="stage_index"):
        left.update(1, 0, 0.0)


def test_measure_forward_times_one_call_after_a_warm_up():
    model = build_model("base40M-textvec", width=32, layers=1, heads=2, n_ctx=16)
    calls = []
    model.register_forward_hook(lambda mod, args, out: calls.append(args[0].shape))
    seconds = measure_forward(
        model,
        batch=2,
        n_points=16,
        cond={"embeddings": torch.zeros(1, 768)},
        device="cpu",
    )
    assert seconds > 0
    assert calls == [torch.Size([2, 6, 16])] * 2

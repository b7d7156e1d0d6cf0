"""Time estimates: per preset before a run, live time left during it, calibrated once."""

from __future__ import annotations

import pytest

import engine.estimate as estimate
import engine.stage_clock as stage_clock
from engine.pipeline import run
from engine.requests import GenerationRequest
from engine.timing import ForwardTimes


def test_presets_are_estimated_and_timed_once(tmp_path, monkeypatch):
    times = ForwardTimes(tmp_path / "timings.json")
    request = GenerationRequest(prompt="a red cube")
    first = estimate.estimate_presets(request, times=times)
    assert set(first) == {"fast", "balanced", "official"}
    assert 0 < first["fast"] < first["balanced"] < first["official"]
    # evaluations x timed seconds per evaluation, per stage: the base at Heun 24 steps = 47
    # evaluations (Official) or DPM++(2M) 12 = 12 (Fast); the built-in upsampler at Heun 6 =
    # 11 or DPM++(2M) 6 = 6
    base = times.get(times.key("cpu", "embedded/base", 2, 1024))
    up = times.get(times.key("cpu", "embedded/upsample", 1, 3072))
    assert base > 0 and up > 0
    assert first["official"] == pytest.approx(47 * base + 11 * up, rel=1e-6)
    assert first["fast"] == pytest.approx(12 * base + 6 * up, rel=1e-6)

    def no_more(*_a, **_k):
        raise AssertionError("measured again")

    monkeypatch.setattr(stage_clock, "measure_forward", no_more)
    again = estimate.estimate_presets(request, times=ForwardTimes(tmp_path / "timings.json"))
    assert again == first


def test_a_run_says_how_long_is_left_once_calibrated(tmp_path, monkeypatch):
    monkeypatch.setenv("POINTE_STUDIO_HOME", str(tmp_path))
    request = GenerationRequest(prompt="a red cube", steps=6)
    assert all(s.seconds_left is None for s in run(request)), "nothing timed yet"
    # that run recorded its cost per forward: the next one has an estimate from its first step
    lefts = [s.seconds_left for s in run(request)]
    assert all(v is not None for v in lefts)
    assert lefts[0] > lefts[-2] >= lefts[-1] == 0

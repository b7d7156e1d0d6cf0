"""Time per stage: calibrated forward times (cached per device and model), the live time left
of a run, and what each finished stage really cost."""

from __future__ import annotations

import logging
import time

import torch

from engine.diffusion.samplers import model_evaluations
from engine.requests import GenerationRequest
from engine.stages import Stage, StageRecord
from engine.timing import ForwardTimes, StagePlan, TimeLeft, TimingKey, measure_forward
from engine.userdata import app_home

log = logging.getLogger(__name__)

CACHE_FILE = "timings.json"


def default_times() -> ForwardTimes:
    return ForwardTimes(app_home() / CACHE_FILE)


def stage_batch(stage: Stage, variations: int = 1) -> int:
    """Rows per network call: guidance doubles the batch."""
    return variations * (1 if stage.guidance in (0.0, 1.0) else 2)


def stage_key(times: ForwardTimes, request: GenerationRequest, stage: Stage) -> TimingKey:
    name = f"{request.model}/{stage.name}"
    return times.key(request.device, name, stage_batch(stage, request.variations), stage.n_points)


def _measure(stage: Stage, request: GenerationRequest) -> float:
    model = stage.model
    cond = dict(stage.cond)
    if stage.uses_low_res:  # the upsampler also reads the base cloud
        cond["low_res"] = torch.zeros(1, 6, model.config.cond_ctx)
    return measure_forward(
        model,
        batch=stage_batch(stage, request.variations),
        n_points=stage.n_points,
        cond=cond,
        device=request.device,
    )


def plans_for(
    stages: list[Stage], request: GenerationRequest, times: ForwardTimes, *, measure: bool
) -> list[StagePlan] | None:
    """A TimeLeft plan per stage; None when a stage has no timing and `measure` is False."""
    plans = []
    for stage in stages:
        key = stage_key(times, request, stage)
        per_forward = times.get(key)
        if per_forward is None:
            if not measure:
                return None
            per_forward = times.get_or_measure(key, lambda s=stage: _measure(s, request))
        plans.append(StagePlan.from_forward(stage.name, stage.sampler, stage.steps, per_forward))
    return plans


def record_stage(
    times: ForwardTimes, request: GenerationRequest, stage: Stage, seconds: float
) -> None:
    """Remember what a finished stage really cost per forward (the next estimate starts there)."""
    evaluations = model_evaluations(stage.sampler, stage.steps)
    if seconds > 0 and evaluations > 0:
        times.put(stage_key(times, request, stage), seconds / evaluations)


class StageClock:
    """Time left from the calibrated forward times (engine.estimate), refined as steps come in;
    each finished stage records what it really cost, so the next estimate starts from there."""

    def __init__(self, stages: list[Stage], request: GenerationRequest) -> None:
        self.stages, self.request = stages, request
        self.times = default_times()
        plans = plans_for(stages, request, self.times, measure=False)
        self.left = TimeLeft(plans) if plans else None
        self.stage_start = time.monotonic()
        self.current = 0

    def seconds_left(self, rec: StageRecord) -> float | None:
        now = time.monotonic()
        if rec.stage_index != self.current:
            self.current, self.stage_start = rec.stage_index, now
        left = None
        if self.left is not None:
            done = min(rec.step, rec.total_steps)
            left = self.left.update(rec.stage_index, done, now - self.stage_start)
        if rec.final:
            self._record(self.stages[rec.stage_index], now - self.stage_start)
            self.stage_start = now
            self.current = rec.stage_index + 1
        return left

    def _record(self, stage: Stage, seconds: float) -> None:
        try:
            record_stage(self.times, self.request, stage, seconds)
        except OSError as exc:  # a read-only profile only loses the estimate
            log.info("could not record the stage timing: %s", exc)

"""Time estimates: one timed forward per model and device, cached, and a live time-left guess."""

from __future__ import annotations

import json
import logging
import os
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from engine.diffusion.samplers import model_evaluations
from engine.fileio import atomic_write_text

log = logging.getLogger(__name__)

#: Bump when the meaning of a cached number changes; older files are then ignored.
CACHE_VERSION = 1


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_forward(
    model: nn.Module,
    *,
    batch: int,
    n_points: int,
    cond: Mapping[str, torch.Tensor],
    device: str | torch.device,
) -> float:
    """Seconds for one forward at this shape, timed after one untimed warm-up call.

    `cond` holds the conditioning kwargs with a leading batch dimension of `batch` (or 1,
    repeated). Weights do not matter for speed, so any model of the right size will do."""
    if batch < 1 or n_points < 1:
        raise ValueError(f"batch and n_points must be >= 1, got {batch}, {n_points}")
    device = torch.device(device)
    param = next(model.parameters())
    channels = getattr(getattr(model, "config", None), "input_channels", 6)
    x = torch.randn(batch, channels, n_points, device=device, dtype=param.dtype)  # (B, C, N)
    t = torch.full((batch,), 512, dtype=torch.long, device=device)  # (B,)
    kwargs = {}
    for key, value in cond.items():
        value = value.to(device)
        if value.shape[0] == 1 and batch > 1:
            value = value.expand(batch, *value.shape[1:])
        kwargs[key] = value
    with torch.inference_mode():
        model(x, t, **kwargs)  # warm-up: allocator, kernel selection, caches
        _sync(device)
        start = time.perf_counter()
        model(x, t, **kwargs)
        _sync(device)
        return time.perf_counter() - start


def device_key(device: str | torch.device) -> str:
    """A device name that changes when the hardware does: 'cuda:NVIDIA H200', 'cpu:x86_64 ...'."""
    device = torch.device(device)
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return f"{device.type}:{platform.machine()} {platform.processor() or ''}".strip()


@dataclass(frozen=True, kw_only=True)
class TimingKey:
    """What a forward time depends on (weights and values do not matter)."""

    device: str  # device_key(): kind and model of the hardware
    model: str  # model name, e.g. "upsample"
    batch: int  # rows per call (guidance doubles them)
    points: int  # points the network denoises
    threads: int  # torch intra-op threads

    def as_str(self) -> str:
        return f"{self.device}|{self.model}|b{self.batch}|n{self.points}|t{self.threads}"


class ForwardTimes:
    """A small JSON file of measured forward times, so a calibration runs once per machine."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._times = self._read()

    def _read(self) -> dict[str, float]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable timing cache %s: %s", self.path, exc)
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return {}
        times = data.get("forward_seconds", {})
        return {str(k): float(v) for k, v in times.items() if isinstance(v, int | float)}

    def key(self, device: str | torch.device, model: str, batch: int, points: int) -> TimingKey:
        return TimingKey(
            device=device_key(device),
            model=model,
            batch=batch,
            points=points,
            threads=torch.get_num_threads(),
        )

    def get(self, key: TimingKey) -> float | None:
        return self._times.get(key.as_str())

    def put(self, key: TimingKey, seconds: float) -> None:
        """Record and write through (atomically: a crash never leaves half a file)."""
        if not seconds > 0:
            raise ValueError(f"seconds must be positive, got {seconds}")
        self._times[key.as_str()] = float(seconds)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": CACHE_VERSION, "forward_seconds": self._times}
        atomic_write_text(self.path, json.dumps(payload, indent=1, sort_keys=True))

    def get_or_measure(self, key: TimingKey, measure: Callable[[], float]) -> float:
        """The cached time for `key`, or measure() once and remember it."""
        cached = self.get(key)
        if cached is not None:
            return cached
        seconds = measure()
        self.put(key, seconds)
        return seconds


def estimate_seconds(per_forward: float, sampler: str, steps: int) -> float:
    """A stage's sampling time: forwards the sampler makes times the time of one forward."""
    return per_forward * model_evaluations(sampler, steps)


@dataclass(frozen=True, kw_only=True)
class StagePlan:
    """One stage as TimeLeft sees it: its steps and a calibrated guess of a step's cost."""

    name: str  # "base", "upsample"...
    steps: int  # sampler steps in the stage
    seconds_per_step: float  # prior from the calibration; 0 = unknown

    @classmethod
    def from_forward(cls, name: str, sampler: str, steps: int, per_forward: float) -> StagePlan:
        return cls(
            name=name,
            steps=steps,
            seconds_per_step=estimate_seconds(per_forward, sampler, steps) / steps,
        )


class TimeLeft:
    """Live time-left estimate: the calibration first, the measured rate as steps come in.

    The current stage's seconds per step is a weighted mean of the prior (worth
    `prior_steps` steps) and the measured rate; stages not yet started have their priors
    scaled by how far the measurement has drifted from the calibration (a busy machine)."""

    def __init__(self, plans: Sequence[StagePlan], *, prior_steps: float = 2.0) -> None:
        if not plans:
            raise ValueError("TimeLeft needs at least one stage")
        self.plans = list(plans)
        self.prior_steps = prior_steps
        self._stage = 0
        self._done = 0
        self._elapsed = 0.0

    def update(self, stage_index: int, steps_done: int, elapsed: float) -> float:
        """Report progress inside a stage (elapsed: seconds in that stage); returns seconds left."""
        if not 0 <= stage_index < len(self.plans):
            raise ValueError(f"stage_index {stage_index} out of range 0..{len(self.plans) - 1}")
        self._stage, self._done, self._elapsed = stage_index, max(0, steps_done), elapsed
        return self.seconds_left()

    def rate(self) -> float:
        """Blended seconds per step for the current stage."""
        prior = self.plans[self._stage].seconds_per_step
        if self._done == 0 or self._elapsed <= 0:
            return prior
        measured = self._elapsed / self._done
        if prior <= 0:
            return measured
        w = self.prior_steps
        return (w * prior + self._done * measured) / (w + self._done)

    def seconds_left(self) -> float:
        plan = self.plans[self._stage]
        rate = self.rate()
        drift = rate / plan.seconds_per_step if plan.seconds_per_step > 0 else 1.0
        left = max(0, plan.steps - self._done) * rate
        left += sum(p.steps * p.seconds_per_step * drift for p in self.plans[self._stage + 1 :])
        return left

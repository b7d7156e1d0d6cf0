"""Diffusion maths: schedules, the Gaussian-to-Karras denoiser, guidance and samplers."""

from engine.diffusion.denoiser import Denoiser, GaussianDenoiser, guided, zeros_like_cond
from engine.diffusion.samplers import (
    SAMPLERS,
    SamplerStep,
    make_noise_fn,
    sample,
    sample_dpm,
    sample_euler_ancestral,
    sample_heun,
    sampler_by_name,
)
from engine.diffusion.scaling import ChannelScaling
from engine.diffusion.schedules import SCHEDULES, NoiseSchedule, betas_for, karras_sigmas

__all__ = [
    "SAMPLERS",
    "SCHEDULES",
    "ChannelScaling",
    "Denoiser",
    "GaussianDenoiser",
    "NoiseSchedule",
    "SamplerStep",
    "betas_for",
    "guided",
    "karras_sigmas",
    "make_noise_fn",
    "sample",
    "sample_dpm",
    "sample_euler_ancestral",
    "sample_heun",
    "sampler_by_name",
    "zeros_like_cond",
]

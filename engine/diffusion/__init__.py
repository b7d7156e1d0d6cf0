"""Diffusion maths: schedules, the Gaussian-to-Karras denoiser, guidance and samplers."""

from engine.diffusion.denoiser import Denoiser, GaussianDenoiser, guided, zeros_like_cond
from engine.diffusion.karras import karras_sample
from engine.diffusion.samplers import (
    CHURN_SAMPLERS,
    SAMPLERS,
    SamplerStep,
    make_noise_fn,
    model_evaluations,
    sample,
    sample_dpm,
    sample_dpmpp_2m,
    sample_euler,
    sample_euler_ancestral,
    sample_heun,
    sampler_by_name,
)
from engine.diffusion.scaling import ChannelScaling
from engine.diffusion.schedules import SCHEDULES, NoiseSchedule, betas_for, karras_sigmas

__all__ = [
    "CHURN_SAMPLERS",
    "SAMPLERS",
    "SCHEDULES",
    "ChannelScaling",
    "Denoiser",
    "GaussianDenoiser",
    "NoiseSchedule",
    "SamplerStep",
    "betas_for",
    "guided",
    "karras_sample",
    "karras_sigmas",
    "make_noise_fn",
    "model_evaluations",
    "sample",
    "sample_dpm",
    "sample_dpmpp_2m",
    "sample_euler",
    "sample_euler_ancestral",
    "sample_heun",
    "sampler_by_name",
    "zeros_like_cond",
]

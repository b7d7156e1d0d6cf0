"""Speed presets: fewer model evaluations per stage, chosen by measurement (bench/)."""

from __future__ import annotations

from engine.routes.spec import Preset, StageTuning

#: The preset a request gets when it names none: the reference behaviour, exactly.
DEFAULT_PRESET = "official"

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="fast",
            label="Fast",
            description="Fewest model evaluations (DPM-Solver++ 2M): minutes on a laptop CPU, "
            "slightly rougher clouds.",
            tuning={
                "builtin-text": {
                    "base": StageTuning(steps=12, sampler="dpmpp_2m"),
                    "upsample": StageTuning(steps=6, sampler="dpmpp_2m"),
                },
                "*": {
                    "base": StageTuning(steps=16, sampler="dpmpp_2m", s_churn=0.0),
                    "upsample": StageTuning(steps=8, sampler="dpmpp_2m"),
                },
            },
        ),
        Preset(
            name="balanced",
            label="Balanced",
            description="About a quarter of the official evaluations; close to official quality.",
            tuning={
                "builtin-text": {
                    "base": StageTuning(steps=16, sampler="dpmpp_2m"),
                    "upsample": StageTuning(steps=8, sampler="dpmpp_2m"),
                },
                "*": {
                    "base": StageTuning(steps=32, sampler="dpmpp_2m", s_churn=0.0),
                    "upsample": StageTuning(steps=16, sampler="dpmpp_2m"),
                },
            },
        ),
        Preset(
            name="official",
            label="Official",
            description="Point-E's own settings (Heun, 64 steps per stage): the reference result.",
        ),
    )
}


def get_preset(name: str | None) -> Preset:
    """The preset called `name` (None = the default); ValueError listing the names otherwise."""
    key = name or DEFAULT_PRESET
    if key not in PRESETS:
        raise ValueError(f"Unknown preset {key!r}: use {', '.join(PRESETS)}.")
    return PRESETS[key]

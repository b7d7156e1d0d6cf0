"""Point-E Studio's ML core: models, samplers, pipelines, checkpoints, export. Never imports Qt."""

import os
import sys

__version__ = "0.1.0"

# Triton (torch.compile's GPU code generator, which we never use) bundles its own LLVM. torch and
# torchvision import it eagerly when installed, and loading it after Mesa's llvmpipe (the software
# OpenGL behind the 3D viewport on machines without a GPU driver) crashes the whole process with a
# segfault. Blocking the import makes torch treat Triton as absent; set POINTE_ALLOW_TRITON=1 to
# opt out.
if os.environ.get("POINTE_ALLOW_TRITON") != "1":
    sys.modules.setdefault("triton", None)  # type: ignore[arg-type]


def generate(
    prompt: str = "",
    image: object = None,
    model: str = "embedded",
    seed: int = 0,
    **settings: object,
):
    """One point cloud for a script: `engine.generate(prompt="a red cube", preset="fast")`.

    `settings` are GenerationRequest's other fields (preset, steps, guidance, sampler, upsample,
    device, precision, picture, remove_background); torch is imported on first use."""
    from pathlib import Path

    from engine.pipeline import generate as run_to_end
    from engine.requests import GenerationRequest

    picture = Path(image) if isinstance(image, str) else image
    request = GenerationRequest(prompt=prompt, image=picture, model=model, seed=seed, **settings)
    return run_to_end(request)

"""Wall time of one embedded-model generation on this machine, at the shipped defaults.

    python bench/embedded_speed.py [--repeats 3] [--steps 16 24 32] [--threads 2]

Times the base model alone (1,024 points) and then one default generation the way the app and
`engine.generate(prompt=...)` make it: the built-in route end to end, upsampler included
(4,096 points) when the app ships one. Acceptance: that default generation in <= 15 s on the
2-core CPU. Also prints the time of one guided network call, so other step counts can be
estimated."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.embedded import RESOURCE_DIR, generate, load_from, text_conditioning


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--steps", type=int, nargs="*", default=[], help="extra step counts to time")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dir", type=Path, default=RESOURCE_DIR)
    p.add_argument("--prompt", default="a red cube")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    emb = load_from(args.dir)
    print(f"load: {time.perf_counter() - t0:.2f} s")
    d = emb.defaults
    generate(emb, [args.prompt], steps=2)  # warm-up
    n = d.n_points
    x = torch.randn(2, 6, n)
    t = torch.full((2,), 500)
    with torch.no_grad():
        cond = text_conditioning(emb.encoder, emb.model, [args.prompt] * 2)
        calls = []
        for _ in range(5):
            s = time.perf_counter()
            emb.model(x, t, **cond)
            calls.append(time.perf_counter() - s)
    print(
        f"one guided network call (batch 2 x {n} points): {statistics.median(calls) * 1e3:.0f} ms"
    )
    for steps in [d.steps, *args.steps]:
        times = []
        for r in range(args.repeats):
            s = time.perf_counter()
            out = generate(emb, [args.prompt], seed=r, steps=steps)
            times.append(time.perf_counter() - s)
        tag = " (default)" if steps == d.steps else ""
        print(
            f"{d.sampler} {steps} steps{tag}, guidance {d.guidance}, {out.shape[-1]} points: "
            f"median {statistics.median(times):.2f} s, min {min(times):.2f} s "
            f"over {args.repeats} runs"
        )
    if args.dir == RESOURCE_DIR:
        default_generation(args.prompt, args.repeats)
    return 0


def default_generation(prompt: str, repeats: int) -> None:
    """What a user's first Generate costs: the pipeline at its defaults (preset official)."""
    import engine

    engine.generate(prompt=prompt, steps=2)  # warm-up: loads the models once
    for preset in ("official", "fast"):
        times, n = [], 0
        for r in range(repeats):
            s = time.perf_counter()
            cloud = engine.generate(prompt=prompt, seed=r, preset=preset)
            times.append(time.perf_counter() - s)
            n = len(cloud.coords)
        tag = "default generation" if preset == "official" else "preset fast"
        goal = "; goal <= 15 s" if preset == "official" else ""
        print(
            f"{tag} (engine.generate, {n:,} points): median {statistics.median(times):.2f} s, "
            f"min {min(times):.2f} s over {repeats} runs{goal}"
        )


if __name__ == "__main__":
    sys.exit(main())

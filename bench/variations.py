"""Generate ×N against N separate runs: the base stage batched once costs less than N runs.

    python bench/variations.py [--n 4] [--prompt "a red cube"] [--preset official] [--repeat 2]

Both sides run through engine.pipeline (the built-in model, whose only stage is the base), so
the ratio is what a user saves by picking among N candidates. Measured in one run; the best of
--repeat timings of each side is kept (other work on the cores only ever adds time).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.pipeline import generate, run
from engine.requests import GenerationRequest


def _time(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=4)
    p.add_argument("--prompt", default="a red cube")
    p.add_argument("--preset", default="official")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    base = GenerationRequest(prompt=args.prompt, preset=args.preset)
    generate(base)  # load the model and warm up before timing anything

    def separate() -> None:
        for i in range(args.n):
            generate(GenerationRequest(prompt=args.prompt, preset=args.preset, seed=i))

    def batched() -> None:
        r = run(GenerationRequest(prompt=args.prompt, preset=args.preset, variations=args.n))
        for _ in r:
            pass

    t_sep = min(_time(separate) for _ in range(args.repeat))
    t_batch = min(_time(batched) for _ in range(args.repeat))
    print(f"{args.n} separate runs: {t_sep:.2f} s; one ×{args.n} run: {t_batch:.2f} s")
    print(
        f"ratio batched / separate: {t_batch / t_sep:.2f} (per candidate {t_batch / args.n:.2f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

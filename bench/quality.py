"""Quality of the embedded model: every primitive x every colour, several seeds, scored.

    python bench/quality.py [--seeds 5] [--points 1024] [--steps N] [--dir resources/models]
                            [--extras] [--preset fast|balanced|official]

Each sample of "a {colour} {primitive}" is compared with the ground-truth object: symmetric
Chamfer distance after centring and unit-RMS scaling, the nearest of the seven primitive
templates (right or wrong), and the mean RGB error (0..1) against the nearest true point.
Pairs held out of training are marked with *. Targets: >= 90% right, colour error <= 0.1.
--extras also scores the composites ("a mushroom": nearest of the nine composite templates,
colour against their default colours) and the proportion words ("a tall red cone": nearest
of the plain/tall/flat/wide versions of that primitive); these have no target.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.embedded import RESOURCE_DIR, generate, load_from
from engine.routes import get_preset
from engine.train.captions import HELD_OUT
from engine.train.metrics import score, template
from engine.train.shapes import COLORS, COMPOSITES, PRIMITIVES, PROPORTIONS


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--points", type=int, help="points per cloud (default: the model's)")
    p.add_argument("--steps", type=int, help="sampler steps (default: the model's)")
    p.add_argument("--guidance", type=float)
    p.add_argument(
        "--preset", default="official", help="speed preset's steps and sampler (engine.routes)"
    )
    p.add_argument("--sigma-max", type=float)
    p.add_argument("--batch", type=int, default=40, help="prompts sampled together")
    p.add_argument("--dir", type=Path, default=RESOURCE_DIR, help="exported model folder")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path, help="also write every sample's scores here")
    p.add_argument("--extras", action="store_true", help="also score composites, proportions")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    emb = load_from(args.dir)
    tune = get_preset(args.preset).for_stage("builtin-text", "base")
    args.steps = args.steps or tune.steps
    print(f"preset {args.preset}: steps {args.steps or 'model default'}, "
          f"sampler {tune.sampler or emb.defaults.sampler}", file=sys.stderr)  # fmt: skip
    pairs = [(k, c) for k in PRIMITIVES for c in COLORS]
    rows: list[dict] = []
    start = time.monotonic()
    for seed in range(args.seeds):
        for i in range(0, len(pairs), args.batch):
            chunk = pairs[i : i + args.batch]
            x = generate(
                emb,
                [f"a {c} {k}" for k, c in chunk],
                seed=1000 + seed + 7 * i,
                steps=args.steps,
                guidance=args.guidance,
                sigma_max=args.sigma_max,
                n_points=args.points,
                sampler=tune.sampler,
            )
            for (kind, color), cloud in zip(chunk, x.numpy(), strict=True):
                s = score(cloud[:3].T, cloud[3:].T / 255.0, kind, color)
                rows.append(
                    {
                        "kind": kind,
                        "color": color,
                        "seed": seed,
                        "held_out": (kind, color) in HELD_OUT,
                        **s,
                    }
                )
        print(f"seed {seed} done, {time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)
    report(rows, emb.defaults, args)
    if args.extras:
        rows += extras(emb, args)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


def extras(emb, args) -> list[dict]:
    """Composites in their default colours and primitives with a proportion word."""
    composites = {k: template(k) for k in COMPOSITES}
    forms = ["plain", *PROPORTIONS]
    asks = [("composite", k, COMPOSITES[k][0], None) for k in COMPOSITES]
    asks += [("proportion", k, "red", w) for k in PRIMITIVES for w in PROPORTIONS]
    rows = []
    for seed in range(args.seeds):
        for i in range(0, len(asks), args.batch):
            chunk = asks[i : i + args.batch]
            prompts = [f"a {k}" if g == "composite" else f"a {w} {c} {k}" for g, k, c, w in chunk]
            x = generate(
                emb,
                prompts,
                seed=5000 + seed + 7 * i,
                steps=args.steps,
                guidance=args.guidance,
                sigma_max=args.sigma_max,
                n_points=args.points,
            )
            for (group, kind, color, word), cloud in zip(chunk, x.numpy(), strict=True):
                xyz, rgb = cloud[:3].T, cloud[3:].T / 255.0
                if group == "composite":
                    s = score(xyz, rgb, kind, color, composites)
                else:
                    cands = {f: template(kind, None if f == "plain" else f) for f in forms}
                    s = score(xyz, rgb, kind, color, cands, proportion=word, expect=word)
                rows.append({"group": group, "kind": kind, "word": word, "seed": seed, **s})
    print("\nextras (no targets): right %, colour error, Chamfer, most common wrong label")
    for group, key in (("composite", "kind"), ("proportion", "word")):
        sel = [r for r in rows if r["group"] == group]
        for name in dict.fromkeys(r[key] for r in sel):
            part = [r for r in sel if r[key] == name]
            acc, col, ch = _summary(part)
            wrong = [r["label"] for r in part if not r["correct"]]
            common = max(set(wrong), key=wrong.count) if wrong else "-"
            print(f"  {group:10} {name:9} {100 * acc:5.1f}%  {col:.3f}  {ch:.3f}  {common}")
        acc, col, ch = _summary(sel)
        print(f"  {group:10} {'all':9} {100 * acc:5.1f}%  {col:.3f}  {ch:.3f}  (n={len(sel)})")
    return rows


def _summary(rows: list[dict]) -> tuple[float, float, float]:
    acc = sum(r["correct"] for r in rows) / len(rows)
    return (
        acc,
        statistics.mean(r["colour_error"] for r in rows),
        statistics.mean(r["chamfer"] for r in rows),
    )


def report(rows: list[dict], defaults, args) -> None:
    print(
        f"embedded model quality: {len(rows)} samples, {args.seeds} seeds per prompt, "
        f"points={args.points or defaults.n_points}, steps={args.steps or defaults.steps}, "
        f"guidance={args.guidance or defaults.guidance}, sampler={defaults.sampler}, "
        f"sigma_max={args.sigma_max or defaults.sigma_max}"
    )
    colors = list(COLORS)
    print("\nshape classified right (%) per primitive x colour; * = held out of training")
    print(f"{'':10}" + "".join(f"{c[:6]:>8}" for c in colors) + f"{'all':>8}")
    for kind in PRIMITIVES:
        line = f"{kind:10}"
        for color in colors:
            sel = [r for r in rows if r["kind"] == kind and r["color"] == color]
            mark = "*" if (kind, color) in HELD_OUT else " "
            line += f"{100 * _summary(sel)[0]:7.0f}{mark}"
        line += f"{100 * _summary([r for r in rows if r['kind'] == kind])[0]:8.0f}"
        print(line)
    print("\nper primitive: right %, colour error, Chamfer, most common wrong label")
    for kind in PRIMITIVES:
        sel = [r for r in rows if r["kind"] == kind]
        acc, col, ch = _summary(sel)
        wrong = [r["label"] for r in sel if not r["correct"]]
        common = max(set(wrong), key=wrong.count) if wrong else "-"
        print(f"  {kind:10} {100 * acc:5.1f}%  {col:.3f}  {ch:.3f}  {common}")
    print("\nper colour: colour error")
    print(
        "  "
        + "  ".join(f"{c} {_summary([r for r in rows if r['color'] == c])[1]:.3f}" for c in colors)
    )
    held = [r for r in rows if r["held_out"]]
    seen = [r for r in rows if not r["held_out"]]
    print("\ntotals                 right    colour err  Chamfer")
    for name, sel in (("all", rows), ("seen pairs", seen), ("held-out pairs", held)):
        acc, col, ch = _summary(sel)
        print(f"  {name:18} {100 * acc:6.1f}%   {col:8.3f}    {ch:.3f}   (n={len(sel)})")
    acc, col, _ = _summary(rows)
    verdict = "PASS" if acc >= 0.9 and col <= 0.1 else "FAIL"
    print(f"\ntargets: >= 90% right, colour error <= 0.1 -> {verdict}")


if __name__ == "__main__":
    sys.exit(main())

"""Quality of the embedded model: every primitive x every colour, several seeds, scored.

    python bench/quality.py [--seeds 5] [--points 1024] [--steps N] [--dir resources/models]
                            [--extras] [--preset fast|balanced|official]

Each sample of "a {colour} {primitive}" is compared with the ground-truth object: symmetric
Chamfer distance after centring and unit-RMS scaling, the nearest of the seven primitive
templates (right or wrong), and the mean RGB error (0..1) against the nearest true point.
Pairs held out of training are marked with *. Targets: >= 90% right, colour error <= 0.1.
--extras also scores the objects ("a red mushroom with a white stem": nearest of the object
templates, and each part's points against that part's colour; targets >= 85% right, per-part
colour error <= 0.12; held-out colour pairs reported apart), the proportion words ("a tall
red cone": nearest of the plain/tall/flat/wide versions of that primitive) and, when the
folder has an upsampler, its gain (Chamfer distance to the ground truth, base cloud against
upsampled cloud, same samples).
--no-primitives skips the primitive table (with --extras: the extras only).
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

from engine.diffusion import ChannelScaling
from engine.embedded import (
    RESOURCE_DIR,
    UPSAMPLER_CONFIG,
    generate,
    load_from,
    load_upsampler_from,
    read_config,
    upsample,
)
from engine.routes import get_preset
from engine.stages import start_sample
from engine.train.captions import HELD_OUT, HELD_OUT_OBJECTS, object_caption
from engine.train.metrics import (
    chamfer,
    ground_truth,
    normalise_cloud,
    object_templates,
    object_truth,
    part_colour_errors,
    score,
    template,
)
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
    p.add_argument(
        "--extras", action="store_true", help="also score objects, proportions, the upsampler"
    )
    p.add_argument("--up-steps", type=int, help="upsampler steps (default: its own)")
    p.add_argument("--no-primitives", action="store_true", help="skip the primitive table")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    emb = load_from(args.dir)
    tune = get_preset(args.preset).for_stage("builtin-text", "base")
    args.steps = args.steps or tune.steps
    args.sampler = tune.sampler
    print(f"preset {args.preset}: steps {args.steps or 'model default'}, "
          f"sampler {tune.sampler or emb.defaults.sampler}", file=sys.stderr)  # fmt: skip
    pairs = [] if args.no_primitives else [(k, c) for k in PRIMITIVES for c in COLORS]
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
                sampler=args.sampler,
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
    if rows:
        report(rows, emb.defaults, args)
    if args.extras:
        upsampler = None
        if (args.dir / UPSAMPLER_CONFIG).is_file():
            upsampler = load_upsampler_from(args.dir)
        rows += extras(emb, args, upsampler)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


def object_asks() -> list[tuple[str, str, str, str, bool]]:
    """(prompt, object, main colour, part colour, held out) for every object: its default
    colours, one colour, two seen colour pairs, and its held-out pair if it has one."""
    colors = list(COLORS)
    asks = []
    for i, kind in enumerate(COMPOSITES):
        main, _, second = COMPOSITES[kind]
        asks.append((f"a {kind}", kind, main, second, False))
        one = colors[(3 * i + 1) % len(colors)]
        part = second if second != main else one  # as the training captions' one colour
        asks.append((object_caption(kind, one), kind, one, part, False))
        j = 0
        while sum(1 for a in asks if a[1] == kind) < 4:
            c1, c2 = colors[(2 * i + j) % len(colors)], colors[(5 * i + 3 * j + 4) % len(colors)]
            j += 1
            if c1 != c2 and (kind, c1, c2) not in HELD_OUT_OBJECTS:
                asks.append((object_caption(kind, c1, c2), kind, c1, c2, False))
        for k, c1, c2 in sorted(HELD_OUT_OBJECTS):
            if k == kind:
                asks.append((object_caption(kind, c1, c2), kind, c1, c2, True))
    return asks


def extras(emb, args, upsampler=None) -> list[dict]:
    """Objects (nearest of the object templates, colour per part), proportion words, and
    the upsampler's gain (Chamfer to the ground truth, base against upsampled)."""
    objects = object_templates()
    forms = ["plain", *PROPORTIONS]
    asks = [("object", *a) for a in object_asks()]
    asks += [("proportion", f"a {w} red {k}", k, "red", w, False)
             for k in PRIMITIVES for w in PROPORTIONS]  # fmt: skip
    known = [a for a in asks if not emb.encoder.analyse(a[1])[1]]
    if len(known) < len(asks):  # an older model that lacks some words
        print(f"extras: skipped {len(asks) - len(known)} prompts with words this model does "
              "not know", file=sys.stderr)  # fmt: skip
    asks = known
    rows = []
    for seed in range(args.seeds):
        for i in range(0, len(asks), args.batch):
            chunk = asks[i : i + args.batch]
            x = generate(
                emb,
                [a[1] for a in chunk],
                seed=5000 + seed + 7 * i,
                steps=args.steps,
                guidance=args.guidance,
                sigma_max=args.sigma_max,
                n_points=args.points,
                sampler=args.sampler,
            )
            ups = starts = None
            if upsampler is not None:
                ups = _upsampled(upsampler, x, 6000 + seed + 7 * i, args.dir, args.up_steps)
                starts = _start_clouds(upsampler, x, 6000 + seed + 7 * i, args.dir)
            for j, ((group, _, kind, c1, c2, held), cloud) in enumerate(
                zip(chunk, x.numpy(), strict=True)
            ):
                xyz, rgb = cloud[:3].T, cloud[3:].T / 255.0
                if group == "object":
                    gt = object_truth(kind, c1, c2)
                    s = score(xyz, rgb, kind, c1, objects)
                    parts = part_colour_errors(xyz, rgb, *gt)
                    s.update(part_main=parts[0], part_named=parts.get(1, parts[0]),
                             part_worst=max(parts.values()))  # fmt: skip
                    word = kind
                else:
                    cands = {f: template(kind, None if f == "plain" else f) for f in forms}
                    s = score(xyz, rgb, kind, c1, cands, proportion=c2, expect=c2)
                    gt = ground_truth(kind, c1, proportion=c2)
                    word = c2
                if ups is not None:
                    truth = normalise_cloud(gt[0])
                    up = ups[j]
                    s["chamfer_base"] = chamfer(normalise_cloud(xyz), truth)
                    s["chamfer_up"] = chamfer(normalise_cloud(up[:3].T), truth)
                    if starts is not None:
                        start = starts[j][:3].T
                        s["chamfer_start"] = chamfer(normalise_cloud(start), truth)
                row = {"group": group, "kind": kind, "word": word, "seed": seed, **s}
                rows.append({**row, "held_out": held, "prompt": chunk[j][1]})
        print(f"extras seed {seed} done", file=sys.stderr, flush=True)
    report_extras(rows)
    return rows


def _upsampled(
    upsampler, x: torch.Tensor, seed: int, folder: Path, steps: int | None, batch: int = 8
) -> torch.Tensor:
    """The built-in upsampler on every base cloud of x, a few at a time (attention memory)."""
    parts = [
        upsample(upsampler, x[i : i + batch], seed=seed + i, folder=folder, steps=steps)
        for i in range(0, len(x), batch)
    ]
    return torch.cat(parts).numpy()


def _start_clouds(
    upsampler, x: torch.Tensor, seed: int, folder: Path, batch: int = 8
) -> torch.Tensor | None:
    """The control for an upsampler that starts from the low-res points: the very cloud it
    starts from (base points, then their copies plus its start noise, the same draws as in
    _upsampled), with no network applied. None for an upsampler that starts from noise."""
    d = read_config(folder, UPSAMPLER_CONFIG).get("defaults", {})
    if d.get("start", "noise") != "low_res":
        return None
    n, sigma = upsampler.config.n_ctx, float(d["sigma_max"])
    parts = []
    for i in range(0, len(x), batch):
        low = x[i : i + batch].float()
        gen = torch.Generator().manual_seed(seed + i)
        noise = torch.randn((low.shape[0], 6, n), generator=gen)
        start = ChannelScaling().unscale(start_sample(noise, sigma, "low_res", low))
        parts.append(torch.cat([low, start], dim=2))
    return torch.cat(parts).numpy()


def report_extras(rows: list[dict]) -> None:
    objs = [r for r in rows if r["group"] == "object"]
    print("\nobjects: right % (nearest of the object templates), colour error of the main part, "
          "the named part, the worse of the two, most common wrong label")  # fmt: skip
    for kind in COMPOSITES:
        sel = [r for r in objs if r["kind"] == kind]
        _object_line(kind, sel)
    seen = [r for r in objs if not r["held_out"]]
    held = [r for r in objs if r["held_out"]]
    for name, sel in (("all", objs), ("seen", seen), ("held-out pairs", held)):
        _object_line(name, sel, totals=True)
    if objs:
        acc = sum(r["correct"] for r in objs) / len(objs)
        worst = statistics.mean(r["part_worst"] for r in objs)
        verdict = "PASS" if acc >= 0.85 and worst <= 0.12 else "FAIL"
        print(f"objects target: >= 85% right, per-part colour error <= 0.12 -> {verdict}")
    print("\nproportion words: right % (nearest of plain/tall/flat/wide), colour error")
    props = [r for r in rows if r["group"] == "proportion"]
    for word in PROPORTIONS:
        sel = [r for r in props if r["word"] == word]
        if sel:
            acc, col, ch = _summary(sel)
            print(f"  {word:9} {100 * acc:5.1f}%  {col:.3f}  {ch:.3f}  (n={len(sel)})")
    up = [r for r in rows if "chamfer_up" in r]
    if up:
        base = statistics.mean(r["chamfer_base"] for r in up)
        after = statistics.mean(r["chamfer_up"] for r in up)
        closer = sum(r["chamfer_up"] < r["chamfer_base"] for r in up) / len(up)
        print(f"\nupsampler gain: Chamfer to ground truth, base {base:.4f} -> upsampled "
              f"{after:.4f} (ratio {after / base:.3f}); closer in {100 * closer:.0f}% of "
              f"{len(up)} samples")  # fmt: skip
        if all("chamfer_start" in r for r in up):
            start = statistics.mean(r["chamfer_start"] for r in up)
            beats = sum(r["chamfer_up"] < r["chamfer_start"] for r in up) / len(up)
            print(f"  control, the cloud it starts from (base points + noisy copies, no "
                  f"network): {start:.4f}; the network's cloud is closer in "
                  f"{100 * beats:.0f}%")  # fmt: skip


def _object_line(name: str, sel: list[dict], totals: bool = False) -> None:
    if not sel:
        return
    acc = sum(r["correct"] for r in sel) / len(sel)
    main = statistics.mean(r["part_main"] for r in sel)
    named = statistics.mean(r["part_named"] for r in sel)
    worst = statistics.mean(r["part_worst"] for r in sel)
    wrong = [r["label"] for r in sel if not r["correct"]]
    common = max(set(wrong), key=wrong.count) if wrong else "-"
    tail = f"(n={len(sel)})" if totals else common
    print(f"  {name:14} {100 * acc:5.1f}%  {main:.3f}  {named:.3f}  {worst:.3f}  {tail}")


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

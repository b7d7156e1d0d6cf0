"""Both official routes end to end at full size (random weights): time, calls, memory, FLOP/s.

    python bench/pipeline.py [--presets fast,balanced,official] [--routes text,image]
                             [--device cuda] [--steps N] [--threads N] [--json FILE]
                             [--quick]

The text route (base40M-textvec + upsample, CLIP ViT-L/14 text vector) and the image route
(base40M + upsample, CLIP image grid) run through engine.pipeline.generate from a temporary
model store holding randomly initialised models at the official sizes (speed does not depend
on the weights). For every stage it prints the time, the network evaluations (counted with
forward hooks), the achieved FLOP/s as a fraction of the float32 GEMM rate measured in the
same run, and the float32 floor (the stage's FLOPs at that GEMM rate) with time / floor;
then each preset's time as a ratio to the official preset's. Each route first runs once,
untimed, at one step per stage (loading and warm-up). --quick swaps in tiny models (same
pipeline, same step counts) as a smoke test of well under a minute."""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.forward import count_flops, gemm_rate  # noqa: E402
from engine.checkpoints import CLIP_NAME, ModelStore, default_store  # noqa: E402
from engine.models import build_model  # noqa: E402
from engine.models.transformer import PointDiffusionTransformer  # noqa: E402
from engine.pipeline import generate  # noqa: E402
from engine.requests import GenerationRequest  # noqa: E402

# --- the preset registry may not exist yet: then only the official settings run ----------
try:
    from engine.routes import PRESETS

    PRESET_NAMES: tuple[str, ...] = tuple(PRESETS)
except ImportError:  # before engine.routes lands: requests have no `preset` field either
    PRESETS = None
    PRESET_NAMES = ("official",)
# ---------------------------------------------------------------------------------------

ROUTES = {  # route -> (base model, request fields)
    "text": ("base40M-textvec", {"prompt": "a red motorcycle"}),
    "image": ("base40M", {}),
}
MODELS = ("base40M-textvec", "base40M", "upsample")
# --quick: one-block networks of width 32 over 64 + 192 points and a tiny CLIP
QUICK_CLIP_WIDTH = 32
QUICK_BASE = {"width": 32, "layers": 1, "heads": 2, "n_ctx": 64}
QUICK_OVERRIDES = {
    "base40M-textvec": {**QUICK_BASE, "clip_dim": 16},  # the tiny CLIP's embedding size
    "base40M": {**QUICK_BASE, "clip_dim": QUICK_CLIP_WIDTH},
    "upsample": {**QUICK_BASE, "n_ctx": 192, "cond_ctx": 64, "clip_dim": QUICK_CLIP_WIDTH},
}


def build_random_store(root: Path, *, quick: bool) -> ModelStore:
    """Install random base40M-textvec, base40M, upsample and CLIP the normal way into `root`."""
    from safetensors.torch import save_file

    src = root / "_src"
    src.mkdir(parents=True, exist_ok=True)
    overrides: dict[str, dict] = dict(QUICK_OVERRIDES) if quick else {}
    if quick:
        from tests.engine.tiny_models import tiny_clip_config, tiny_clip_name, tiny_open_clip

        name = tiny_clip_name(width=QUICK_CLIP_WIDTH)
        config_path = src / f"{name}.json"
        config_path.write_text(json.dumps(tiny_clip_config(width=QUICK_CLIP_WIDTH)))
        overrides[CLIP_NAME] = {"model_name": name, "model_config": str(config_path)}
        clip = tiny_open_clip(seed=3, width=QUICK_CLIP_WIDTH)
    else:
        import open_clip

        clip = open_clip.create_model("ViT-L-14-quickgelu", pretrained=None)
    (root / "settings.json").write_text(json.dumps({"model_overrides": overrides}))
    store = default_store(root)
    for seed, name in enumerate(MODELS):
        torch.manual_seed(seed)
        model = build_model(name, **overrides.get(name, {}))
        nn.init.normal_(model.output_proj.weight, std=0.02)  # not the all-zero untrained head
        path = src / f"{name}.pt"
        torch.save(model.state_dict(), path)
        store.install_file(name, path, origin="bench")
        path.unlink()
    path = src / "open_clip_model.safetensors"
    save_file({k: v.contiguous() for k, v in clip.state_dict().items()}, path)
    del clip
    store.install_file(CLIP_NAME, path, origin="bench")
    path.unlink()
    return store


def test_image(folder: Path) -> Path:
    """A synthetic photo-like picture: two coloured blocks on grey (no files needed)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (320, 256), (128, 128, 128))
    draw = ImageDraw.Draw(img)
    draw.rectangle((80, 60, 200, 200), fill=(200, 40, 40))
    draw.ellipse((150, 30, 260, 140), fill=(40, 90, 210))
    path = folder / "blocks.png"
    img.save(path)
    return path


@dataclasses.dataclass
class StageCount:
    """What the hooks saw of one network during one run."""

    evals: int = 0
    first: float = 0.0  # perf_counter at the first call's start
    last: float = 0.0  # perf_counter at the last call's end
    batches: dict[int, int] = dataclasses.field(default_factory=dict)  # rows -> calls


class Counter:
    """Global forward hooks: calls, rows and wall span per Point-E network, inputs to re-count."""

    def __init__(self) -> None:
        self.stages: dict[int, StageCount] = {}
        self.models: dict[int, nn.Module] = {}
        self.inputs: dict[tuple[int, int], dict] = {}  # (model id, rows) -> forward kwargs
        self._handles: list = []

    def __enter__(self) -> Counter:
        reg = torch.nn.modules.module
        self._handles = [
            reg.register_module_forward_pre_hook(self._pre),
            reg.register_module_forward_hook(self._post, with_kwargs=True),
        ]
        return self

    def __exit__(self, *exc) -> None:
        for h in self._handles:
            h.remove()

    def _pre(self, module: nn.Module, args) -> None:
        if isinstance(module, PointDiffusionTransformer) and id(module) not in self.stages:
            self.models[id(module)] = module
            self.stages[id(module)] = StageCount(first=time.perf_counter())

    def _post(self, module: nn.Module, args, kwargs, output) -> None:
        if not isinstance(module, PointDiffusionTransformer):
            return
        count = self.stages[id(module)]
        count.evals += 1
        rows = int(args[0].shape[0])
        count.batches[rows] = count.batches.get(rows, 0) + 1
        count.last = time.perf_counter()
        if (id(module), rows) not in self.inputs:  # one call's inputs per batch size
            self.inputs[(id(module), rows)] = {"x": args[0], "t": args[1], **kwargs}


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def cuda_gemm_rate(n: int = 8192, repeats: int = 5) -> float:
    """bench.forward.gemm_rate on the GPU (it needs a synchronise around the timing)."""
    a, b = torch.randn(n, n, device="cuda"), torch.randn(n, n, device="cuda")
    a @ b
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        a @ b
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / min(times) / 1e9


def make_request(
    route: str, preset: str, args: argparse.Namespace, image: Path, steps: int | None = None
):
    """A GenerationRequest for the route, using only the fields this checkout's request has."""
    model, fields = ROUTES[route]
    have = {f.name for f in dataclasses.fields(GenerationRequest)}
    kw: dict = {"model": model, "seed": 0, "device": args.device, **fields}
    if route == "image":
        kw["image"] = image
        if "remove_background" in have:
            kw["remove_background"] = False
        elif "extra" in have:
            kw["extra"] = {"remove_background": False}
    if "preset" in have and PRESETS is not None:
        kw["preset"] = preset
    if steps or args.steps:
        kw["steps"] = steps or args.steps
    return GenerationRequest(**kw)


def _stage_name(model: nn.Module) -> str:
    return "upsample" if "Upsample" in model.config.arch else "base"


def run_one(
    route: str, preset: str, store: ModelStore, args, image: Path, flops_of: Callable
) -> list[dict]:
    """One generation; one row per stage plus a setup row and a total row."""
    request = make_request(route, preset, args, image)
    if args.device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    _sync(args.device)
    start = time.perf_counter()
    with Counter() as counter:
        cloud = generate(request, store=store)
        _sync(args.device)
    end = time.perf_counter()
    meta = getattr(cloud, "meta", {}) or {}
    samplers = meta.get("sampler")
    steps = meta.get("steps") or []
    rows: list[dict] = []
    first_call = min((c.first for c in counter.stages.values()), default=end)
    base = {"route": route, "preset": preset}
    rows.append({**base, "stage": "setup", "seconds": first_call - start})
    ordered = sorted(counter.stages.items(), key=lambda kv: kv[1].first)
    for i, (key, count) in enumerate(ordered):
        model = counter.models[key]
        flops = sum(calls * flops_of(counter, key, b) for b, calls in count.batches.items())
        sampler = samplers[i] if isinstance(samplers, list) and i < len(samplers) else samplers
        rows.append(
            {
                **base,
                "stage": _stage_name(model),
                "sampler": sampler or request.sampler,
                "steps": steps[i] if i < len(steps) else None,
                "evals": count.evals,
                "rows": sorted(count.batches),
                "seconds": count.last - count.first,
                "flops": flops,
            }
        )
    total = {**base, "stage": "total", "seconds": end - start}
    total["evals"] = sum(r.get("evals", 0) for r in rows)
    total["flops"] = sum(r.get("flops", 0.0) for r in rows)
    total["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    if args.device.startswith("cuda"):
        total["peak_vram_gb"] = torch.cuda.max_memory_allocated() / 2**30
    rows.append(total)
    return rows


def flop_counter() -> Callable:
    """FLOPs of one forward per (model, rows), counted once with bench.forward.count_flops."""
    cache: dict[tuple[int, int], float] = {}

    def flops_of(counter: Counter, key: int, rows: int) -> float:
        if (key, rows) not in cache:
            inputs = counter.inputs.get((key, rows))
            if inputs is None:
                return float("nan")
            cache[(key, rows)] = count_flops(counter.models[key], inputs)
        return cache[(key, rows)]

    return flops_of


def print_table(rows: list[dict], peak: float) -> None:
    head = (
        f"{'route':6} {'preset':9} {'stage':9} {'sampler':9} {'steps':>5} {'evals':>5} "
        f"{'time s':>8} {'s/eval':>7} {'GFLOP/ev':>8} {'GFLOP/s':>8} {'of GEMM':>7} "
        f"{'floor s':>8} {'t/floor':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        secs = r["seconds"]
        line = f"{r['route']:6} {r['preset']:9} {r['stage']:9} "
        if r["stage"] == "setup":
            print(line + f"{'':9} {'':>5} {'':>5} {secs:>8.2f}")
            continue
        evals, flops = r.get("evals", 0), r.get("flops", 0.0)
        floor = flops / (peak * 1e9)
        rate = flops / secs / 1e9 if secs > 0 else float("nan")
        per_eval = secs / evals if evals else float("nan")
        gflop_ev = flops / evals / 1e9 if evals else float("nan")
        line += (
            f"{r.get('sampler') or ''!s:9} {r.get('steps') or ''!s:>5} {evals:>5} "
            f"{secs:>8.2f} {per_eval:>7.3f} {gflop_ev:>8.1f} {rate:>8.1f} {rate / peak:>7.2f} "
            f"{floor:>8.2f} {secs / floor if floor else float('nan'):>7.2f}"
        )
        if r["stage"] == "total":
            line += f"   peak RSS {r['peak_rss_gb']:.2f} GB"
            if "peak_vram_gb" in r:
                line += f", VRAM {r['peak_vram_gb']:.2f} GB"
        print(line)


def print_ratios(rows: list[dict]) -> None:
    totals = {(r["route"], r["preset"]): r for r in rows if r["stage"] == "total"}
    for route in dict.fromkeys(r for r, _ in totals):
        ref = totals.get((route, "official"))
        if ref is None:
            continue
        for (rt, preset), r in totals.items():
            if rt != route or preset == "official":
                continue
            print(
                f"{route}: {preset} / official = {r['seconds'] / ref['seconds']:.3f} in time, "
                f"{r['evals'] / ref['evals']:.3f} in evaluations"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presets", default=",".join(PRESET_NAMES), help="comma-separated")
    parser.add_argument("--routes", default="text,image", help="comma-separated: text,image")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--steps", type=int, default=None, help="override every stage's steps")
    parser.add_argument("--quick", action="store_true", help="tiny models: a smoke test")
    parser.add_argument("--json", type=Path, default=None, help="also write the rows here")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: all; --quick: 1)"
    )
    args = parser.parse_args()
    if args.threads or args.quick:
        # tiny ops gain nothing from threads and stall on a shared machine's busy cores
        torch.set_num_threads(args.threads or 1)
    presets = [p for p in args.presets.split(",") if p]
    unknown = sorted(set(presets) - set(PRESET_NAMES))
    if unknown:
        parser.error(f"unknown preset(s) {unknown}; known: {', '.join(PRESET_NAMES)}")
    routes = [r for r in args.routes.split(",") if r]
    if set(routes) - set(ROUTES):
        parser.error(f"--routes takes {', '.join(ROUTES)}")
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA GPU here")
    if PRESETS is None:
        print("engine.routes not importable: running the official settings only")
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")

    def measure_peak() -> float:
        if args.device.startswith("cuda"):
            return cuda_gemm_rate()
        return gemm_rate(1024 if args.quick else 4096)

    peak = measure_peak()
    print(f"float32 GEMM: {peak:.0f} GFLOP/s")
    rows: list[dict] = []
    flops_of = flop_counter()
    with tempfile.TemporaryDirectory(prefix="pointe-bench-") as tmp:
        t0 = time.perf_counter()
        store = build_random_store(Path(tmp) / "models", quick=args.quick)
        image = test_image(Path(tmp))
        print(
            f"random {'tiny' if args.quick else 'full-size'} store: "
            f"{time.perf_counter() - t0:.1f} s"
        )
        for route in routes:
            # untimed: loads the models and CLIP, and warms every kernel the route uses
            generate(make_request(route, presets[0], args, image, steps=1), store=store)
            for preset in presets:
                rows += run_one(route, preset, store, args, image, flops_of)
                print(f"  {route}/{preset}: {rows[-1]['seconds']:.1f} s", flush=True)
            peak = max(peak, measure_peak())  # re-measure between routes: the machine is shared
    print(f"float32 GEMM (best in run): {peak:.0f} GFLOP/s")
    print_table(rows, peak)
    print_ratios(rows)
    if args.json:
        payload = {"torch": torch.__version__, "threads": torch.get_num_threads()}
        payload.update(device=args.device, quick=args.quick, gemm_gflops=peak, rows=rows)
        args.json.write_text(json.dumps(payload, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

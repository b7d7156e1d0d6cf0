"""`train`: reproduce the embedded model from scratch (resumable), or export a checkpoint."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

from cli import CliError
from engine.userdata import resources_dir

DEFAULT_EXPORT_DIR = resources_dir() / "models"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train the built-in text-to-point-cloud model (CPU is fine) or export its weights",
        description="Train the embedded model on procedural shapes. With only --out it replays "
        "the shipped model's recipe from scratch (engine/train/recipe.py), checkpointing to "
        "OUT/last.pt every few minutes; the same command continues an interrupted run. "
        "The override flags (--steps, --lr, ...) run a single experiment instead.",
    )
    p.add_argument("--out", type=Path, help="folder for checkpoints and the log")
    p.add_argument(
        "--upsampler",
        action="store_true",
        help="train the built-in upsampler (1,024 -> 4,096 points) instead of the text model",
    )
    p.add_argument(
        "--from-model",
        type=Path,
        metavar="DIR",
        help="start the text model's recipe from an exported model (e.g. resources/models) at "
        "the step its JSON records, instead of replaying the earlier phases",
    )
    p.add_argument("--resume", type=Path, help="checkpoint to continue from (e.g. OUT/last.pt)")
    p.add_argument("--minutes", type=float, help="stop after this much wall time (resume later)")
    p.add_argument("--steps", type=int, help="experiment: stop at this total step count")
    p.add_argument("--seed", type=int, default=0, help="data and initialisation seed")
    p.add_argument(
        "--preset",
        choices=("embedded", "tiny"),
        default="embedded",
        help="model size: the shipped one, or a tiny one for smoke tests",
    )
    p.add_argument(
        "--max-loss-weight",
        type=float,
        help="override the cap of the high-noise loss weight (1 = plain epsilon MSE)",
    )
    p.add_argument(
        "--additive-cond",
        action="store_true",
        help="on --resume: switch the text vector from a token to an addition",
    )
    p.add_argument(
        "--anneal-steps",
        type=int,
        help="decay the learning rate linearly to 5%% over this many steps from now",
    )
    p.add_argument("--ema", type=float, help="override the EMA decay")
    p.add_argument("--lr", type=float, help="override the peak learning rate from this step on")
    p.add_argument(
        "--bag-encoder",
        type=float,
        metavar="LR",
        help="on --resume: replace the text encoder by a bag-of-words one, at LR",
    )
    p.add_argument("--threads", type=int, default=2, help="CPU threads for torch")
    p.add_argument("--checkpoint-minutes", type=float, default=4.0)
    p.add_argument(
        "--export",
        type=Path,
        metavar="CKPT",
        help="write CKPT's EMA weights as safetensors + JSON config and exit",
    )
    p.add_argument(
        "--export-dir",
        type=Path,
        default=DEFAULT_EXPORT_DIR,
        help="where --export writes (default: resources/models)",
    )
    p.set_defaults(func=run)


MANUAL_FLAGS = ("steps", "max_loss_weight", "anneal_steps", "ema", "lr", "bag_encoder")


def run(args: argparse.Namespace) -> int:
    import torch

    from engine.train import trainer

    torch.set_num_threads(max(1, args.threads))
    if args.export:
        from engine.train.export import export_checkpoint

        if not args.export.is_file():
            raise CliError(f"checkpoint not found: {args.export}")
        paths = export_checkpoint(args.export, args.export_dir)
        print("wrote " + ", ".join(str(p) for p in paths))
        return 0
    if args.out is None:
        raise CliError("--out DIR is required (where checkpoints go)")
    manual = args.additive_cond or any(getattr(args, f) is not None for f in MANUAL_FLAGS)
    if manual and args.minutes is None and args.steps is None:
        raise CliError("give --minutes M and/or --steps N so the run knows when to stop")
    resume = args.resume
    if resume is None and not manual and (args.out / "last.pt").is_file():
        resume = args.out / "last.pt"  # the recipe continues where the folder's run stopped
    if resume:
        if not resume.is_file():
            raise CliError(f"checkpoint not found: {resume}")
        state = trainer.state_from_checkpoint(trainer.load_checkpoint(resume))
    elif args.from_model is not None and not args.upsampler:
        try:
            state = trainer.state_from_export(args.from_model, seed=args.seed)
        except (OSError, KeyError, ValueError, RuntimeError) as exc:
            raise CliError(f"cannot start from {args.from_model}: {exc}") from exc
    else:
        preset = args.preset
        if args.upsampler:
            preset = "tiny-upsampler" if preset == "tiny" else "upsampler"
        state = trainer.new_state(dataclasses.replace(trainer.PRESETS[preset], seed=args.seed))
    if manual:
        _apply_manual_overrides(state, args)
    args.out.mkdir(parents=True, exist_ok=True)
    print(trainer.describe(state), flush=True)
    on_log = _logger(args.out / "train.jsonl")
    if manual:
        trainer.train(
            state,
            args.out,
            max_steps=args.steps,
            minutes=args.minutes,
            checkpoint_minutes=args.checkpoint_minutes,
            on_log=on_log,
        )
        print(f"saved {args.out / 'last.pt'} at step {state.step}")
        return 0
    from engine.train import recipe

    phases = recipe.UPSAMPLER_RECIPE if state.config.kind == "upsampler" else recipe.RECIPE

    def on_phase(index: int, phase: recipe.Phase) -> None:
        print(f"phase {index + 1}/{len(phases)} to step {phase.until}: {phase}", flush=True)

    started = time.monotonic()
    recipe.run_recipe(
        state,
        args.out,
        phases,
        minutes=args.minutes,
        checkpoint_minutes=args.checkpoint_minutes,
        on_log=on_log,
        on_phase=on_phase,
    )
    print(f"this run: {(time.monotonic() - started) / 60:.1f} min of wall time", flush=True)
    if recipe.finished(state, phases):
        print(
            f"recipe finished at step {state.step}; export with: "
            f"python main.py train --export {args.out / 'last.pt'}"
        )
    else:
        print(f"stopped at step {state.step}; the same command continues from {args.out}")
    return 0


def _apply_manual_overrides(state, args: argparse.Namespace) -> None:
    """Experiment flags (outside the shipped recipe), applied as a phase starting now."""
    from engine.train import recipe

    overrides = recipe.Overrides(
        max_loss_weight=args.max_loss_weight,
        additive_cond=args.additive_cond,
        bag_encoder_lr=args.bag_encoder,
        lr=args.lr,
        anneal_steps=args.anneal_steps,
        ema=args.ema,
    )
    recipe.apply_overrides(state, overrides, start=state.step)


def _logger(log_path: Path):
    def on_log(rec: dict) -> None:
        rec = {**rec, "time": time.strftime("%H:%M:%S")}
        with open(log_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")
        print(
            f"step {rec['step']:6d}  loss {rec['loss']:.4f}  avg {rec['avg']:.4f}  "
            f"N={rec['points']}  {rec['sec']:.2f}s/step  {rec['elapsed_min']:.1f} min",
            file=sys.stdout,
            flush=True,
        )

    return on_log

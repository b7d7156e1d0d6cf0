"""Command-line interface: one module per subcommand, each exposing add_parser() and run()."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# subcommand -> module in this package; each module defines add_parser(sub) and run(args) -> int
SUBCOMMANDS = {
    "generate": "cli.generate",
    "models": "cli.models",
    "export": "cli.export",
    "render": "cli.render",
    "check": "cli.check",
    "train": "cli.train",
}


class CliError(Exception):
    """A problem the user can fix; printed as one line, never a traceback."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pointe-studio",
        description="Point-E Studio: text or picture to 3D point cloud and printable mesh.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMANDS.values():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.add_parser(sub)
    return parser


def run_cli(argv: list[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an unforeseen failure: one line, details with -v
        from engine.errors import StudioError

        if isinstance(exc, StudioError):  # a user-facing engine message a command did not wrap
            print(f"error: {exc}", file=sys.stderr)
            return 1
        logging.getLogger("cli").debug("unexpected failure", exc_info=True)
        hint = "" if args.verbose else " (run again with -v for details)"
        print(f"error: unexpected problem: {type(exc).__name__}: {exc}{hint}", file=sys.stderr)
        return 1

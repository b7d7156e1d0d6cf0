"""Point-E Studio entry point: no arguments opens the app; a subcommand runs the CLI."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    import engine  # noqa: F401  (cheap; sets up the process before torch or VTK load)

    args = sys.argv[1:] if argv is None else argv
    if args and args[0] == "--selftest":  # the frozen app's own check (packaging/README.md)
        from desktop.selftest import main as selftest

        return selftest(args[1:])
    if not args or args[0].startswith("-psn"):  # macOS Finder passes -psn_… when double-clicked
        from desktop.app import run_app

        return run_app()
    from cli import run_cli

    return run_cli(args)


if __name__ == "__main__":
    sys.exit(main())

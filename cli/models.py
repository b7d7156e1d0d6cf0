"""`models` subcommand: list, download, import, verify and remove official model files."""

from __future__ import annotations

import argparse
import sys
import time

from cli import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "models",
        help="list, download, import, verify or remove model files",
        description="Manage the model store (POINTE_STUDIO_HOME/models or the per-user data "
        "folder). POINTE_MIRROR_URL is tried before the official hosts.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="show every model, installed or not, with sizes")
    p = actions.add_parser("download", help="download, verify and install models in order")
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("--force", action="store_true", help="download again even if installed")
    p = actions.add_parser("import", help="install model files you already have (file or folder)")
    p.add_argument("path")
    p.add_argument("--as", dest="as_name", metavar="NAME", help="which model the file is")
    p.add_argument("--force", action="store_true", help="replace an installed model")
    p = actions.add_parser("verify", help="re-check hashes and structure of installed models")
    p.add_argument("names", nargs="*", metavar="NAME")
    p = actions.add_parser("remove", help="delete installed models")
    p.add_argument("names", nargs="+", metavar="NAME")
    parser.set_defaults(func=run)


def _store():
    from engine.checkpoints import default_store

    return default_store()


def _check_names(names: list[str]) -> None:
    from engine.checkpoints import all_entries

    known = [e.name for e in all_entries()]
    unknown = [n for n in names if n not in known]
    if unknown:
        raise CliError(f"unknown model(s): {', '.join(unknown)}. Known: {', '.join(known)}")


class ProgressPrinter:
    """One self-rewriting line on a terminal; a line per 25% (and per event) otherwise."""

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last_step: dict[str, int] = {}
        self.last_draw = 0.0

    def __call__(self, p) -> None:
        from engine.checkpoints.download import human_size

        if p.message:
            self._line(f"{p.label}: {p.message}")
        total = f"/{human_size(p.total)}" if p.total else ""
        pct = f"{100 * p.fraction:5.1f}% " if p.fraction is not None else ""
        speed = f"  {human_size(p.speed)}/s" if p.speed else ""
        eta = f"  {int(p.eta) // 60}:{int(p.eta) % 60:02d} left" if p.eta else ""
        text = f"{p.label}: {pct}{human_size(p.done)}{total}{speed}{eta}"
        if self.tty:
            now = time.monotonic()
            finished = bool(p.total) and p.done >= p.total
            if now - self.last_draw > 0.1 or finished:
                self.last_draw = now
                self.stream.write("\r\033[K" + text + ("\n" if finished else ""))
                self.stream.flush()
            return
        step = int(4 * p.fraction) if p.fraction is not None else 0
        if step > self.last_step.get(p.label, -1):
            self.last_step[p.label] = step
            self._line(text)

    def _line(self, text: str) -> None:
        self.stream.write(("\r\033[K" if self.tty else "") + text + "\n")
        self.stream.flush()


def _list(store) -> int:
    from engine.checkpoints import all_entries
    from engine.checkpoints.download import human_size

    print(f"Model folder: {store.root}")
    print(f"{'name':18} {'status':10} {'size':>9}  purpose")
    for e in all_entries():
        installed = store.is_installed(e.name)
        status = "installed" if installed else "available"
        size = store.installed_size(e.name) if installed else e.size
        print(f"{e.name:18} {status:10} {human_size(size) if size else '?':>9}  {e.purpose}")
    return 0


def run(args: argparse.Namespace) -> int:
    from engine.errors import StudioError

    try:
        store = _store()
        if args.action == "list":
            return _list(store)
        if args.action == "download":
            _check_names(args.names)
            done = store.download(args.names, progress=ProgressPrinter(), force=args.force)
            for name in args.names:
                print(f"{name}: {'installed' if name in done else 'already installed'}")
            return 0
        if args.action == "import":
            from engine.checkpoints.importer import import_path

            if args.as_name:
                _check_names([args.as_name])
            items = import_path(store, args.path, as_name=args.as_name, force=args.force)
            for item in items:
                print(f"{item.path}: {item.message}")
            return 0 if any(i.installed or i.name for i in items) else 1
        if args.action == "verify":
            _check_names(args.names)
            results = store.verify(args.names or None)
            if not results:
                print("No models installed.")
            for r in results:
                print(f"{r.name}: {'ok' if r.ok else 'FAILED: ' + r.message}")
            return 0 if all(r.ok for r in results) else 1
        if args.action == "remove":
            _check_names(args.names)
            for name in args.names:
                was = store.is_installed(name)
                store.remove(name)
                print(f"{name}: {'removed' if was else 'was not installed'}")
            return 0
    except StudioError as exc:
        raise CliError(str(exc)) from exc
    raise CliError(f"unknown action {args.action!r}")

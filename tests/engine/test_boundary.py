"""engine/ is the pure ML core: importing all of it must not pull in Qt, pyvista, vtk or desktop."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = ("PySide6", "pyvista", "pyvistaqt", "vtk", "vtkmodules", "desktop")


def test_engine_imports_no_gui_modules():
    import engine

    names = [m.name for m in pkgutil.walk_packages(engine.__path__, "engine.")]
    assert "engine.pipeline" in names and "engine.models.transformer" in names
    code = (
        "import importlib, sys\n"
        f"for n in {names!r}:\n"
        "    importlib.import_module(n)\n"
        f"bad = sorted(m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r})\n"
        "print(','.join(bad))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "", f"engine pulled in: {res.stdout.strip()}"

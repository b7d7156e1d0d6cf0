"""Viewer choices shared by toolbar and viewer, importable without pyvista (fast start)."""

from __future__ import annotations

from PySide6.QtCore import Qt

BACKGROUNDS = {  # name -> (bottom colour, top colour or None for flat)
    "dark": ("#202329", "#3a3f4b"),
    "light": ("#f4f4f6", "#d7dbe2"),
    "black": ("#000000", None),
    "white": ("#ffffff", None),
}
COLOR_MODES = ("rgb", "single", "height")
# number key -> (label, pyvista view method, negative)
VIEWS = {
    Qt.Key.Key_1: ("front", "view_xz", False),
    Qt.Key.Key_2: ("back", "view_xz", True),
    Qt.Key.Key_3: ("right", "view_yz", False),
    Qt.Key.Key_4: ("left", "view_yz", True),
    Qt.Key.Key_5: ("top", "view_xy", False),
    Qt.Key.Key_6: ("bottom", "view_xy", True),
    Qt.Key.Key_0: ("isometric", "view_isometric", False),
}
DATA_BOUNDS = (-0.55, 0.55, -0.55, 0.55, -0.55, 0.55)  # Point-E's data space, with a margin

"""Help pages: Getting started and Keyboard shortcuts, as non-modal dialogs."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

#: (keys, what they do), grouped by where they work. One list feeds the dialog and the tests,
#: so the page cannot drift from what menus.py and viewer.py bind.
SHORTCUTS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Anywhere in the window",
        (
            ("Ctrl+Enter", "Generate from the prompt (or picture)"),
            ("Esc", "Cancel the generation that is running"),
            ("Ctrl+E", "Export the current result (mesh for printing, point cloud…)"),
            ("F12", "Save a screenshot of the 3D view"),
            ("Ctrl+Z", "Undo the last point edit"),
            ("Ctrl+Shift+Z", "Redo a point edit"),
            ("F1", "Getting started"),
            ("Ctrl+Q", "Quit"),
        ),
    ),
    (
        "In the 3D view (click it first)",
        (
            ("1", "Front view"),
            ("2", "Back view"),
            ("3", "Right view"),
            ("4", "Left view"),
            ("5", "Top view"),
            ("6", "Bottom view"),
            ("0", "Isometric view"),
            ("R", "Reset the view"),
            ("T", "Turntable: spin the object on and off"),
            ("Drag / wheel", "Rotate / zoom; Shift+drag pans"),
        ),
    ),
)

GETTING_STARTED = """
<h2>Getting started</h2>
<ol>
<li><b>Describe an object.</b> Type a few words into the prompt box on the left, for example
<i>a red cube</i> or <i>a blue ball</i>.</li>
<li><b>Press Ctrl+Enter</b> (or the Generate button). A cloud of coloured dots appears in the
3D view and settles into the shape while you watch. The bar under the view shows how far it has
got and how long is left. <b>Esc</b> cancels.</li>
<li><b>Look around.</b> Drag in the 3D view to turn it, scroll to zoom. Press <b>T</b> for a
turntable spin, <b>1</b>–<b>6</b> for front, back, sides, top and bottom, <b>0</b> for a
three-quarter view, <b>R</b> to reset.</li>
<li><b>History.</b> Every result is kept in the History panel at the bottom. Click a picture
to see that result again; right-click it for more (use its settings again, show the files,
delete).</li>
<li><b>Print it.</b> <b>File → Export…</b> (Ctrl+E) turns the dots into a solid mesh (STL,
OBJ, 3MF…) that a slicer for your 3D printer can open, and checks it for printing.</li>
</ol>
<h3>Which model?</h3>
<p>The <b>built-in</b> model is small and works offline straight away, but it only knows
simple shapes in plain colours: cubes, balls, cylinders, cones, rings (donuts), pyramids and
capsules, in red, green, blue, yellow, orange, purple, pink, white, black, brown or grey. For
real-world objects (a chair, a car, a mug), open <b>Models → Models…</b> and download
OpenAI's official Point-E models (about 2 GB, once). A picture of an object can be turned into
3D as well.</p>
<p>Results are rough: a few thousand dots, not fine detail. Try another seed, or a shorter,
plainer prompt, if the shape comes out wrong.</p>
"""


def shortcuts_html() -> str:
    """The shortcut table as HTML, built from SHORTCUTS."""
    parts = ["<h2>Keyboard shortcuts</h2>"]
    for group, rows in SHORTCUTS:
        parts.append(f"<h3>{escape(group)}</h3><table cellpadding='3'>")
        parts.extend(
            f"<tr><td><b>{escape(keys)}</b></td><td>{escape(what)}</td></tr>" for keys, what in rows
        )
        parts.append("</table>")
    return "".join(parts)


PAGES = {  # key in the window's `dialogs` -> (title, html builder)
    "help": ("Getting started", lambda: GETTING_STARTED),
    "shortcuts": ("Keyboard shortcuts", shortcuts_html),
}


class HelpDialog(QDialog):
    """One help page in a browser; non-modal so it can stay open beside the window."""

    def __init__(self, page: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title, html = PAGES[page]
        self.page = page
        self.setWindowTitle(title)
        self.setModal(False)
        self.resize(520, 470 if page == "help" else 540)
        self.text = QTextBrowser(self)
        self.text.setOpenExternalLinks(True)
        self.text.setHtml(html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, Qt.Orientation.Horizontal)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)


def show_help(window: QWidget, page: str) -> HelpDialog:
    """Show (or raise) a help page; kept in `window.dialogs` when it has one, closed on quit."""
    dialogs = getattr(window, "dialogs", None)
    dialog = dialogs.get(page) if isinstance(dialogs, dict) else None
    if not isinstance(dialog, HelpDialog):
        dialog = HelpDialog(page, window)
        if isinstance(dialogs, dict):
            dialogs[page] = dialog
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog

"""The window's menu bar and keyboard shortcuts (actions work with the menu bar hidden too)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu

from desktop.dialogs.help import show_help


@dataclass(frozen=True)
class Actions:
    """The actions other code enables, disables or triggers."""

    generate: QAction
    cancel: QAction
    export: QAction


def add_action(
    window: QMainWindow,
    menu: QMenu | None,
    text: str,
    slot: Callable,
    shortcuts: Sequence[str | QKeySequence.StandardKey] = (),
    tip: str = "",
) -> QAction:
    action = QAction(text, window)
    if shortcuts:
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(slot)
    window.addAction(action)  # shortcuts work even with the menu bar hidden
    if menu is not None:
        menu.addAction(action)
    return action


def build_menus(w) -> Actions:
    """File, View, Models and Help for the main window `w` (desktop.main_window)."""
    bar = w.menuBar()
    file_menu = bar.addMenu("&File")
    generate = add_action(w, file_menu, "&Generate", w.generate, ("Ctrl+Return", "Ctrl+Enter"))
    cancel = add_action(w, file_menu, "&Cancel generation", w.cancel, ("Esc",))
    file_menu.addSeparator()
    export = add_action(w, file_menu, "&Export…", w.export, ("Ctrl+E",))
    add_action(w, file_menu, "Save &screenshot", w.save_viewport_screenshot, ("F12",))
    add_action(w, file_menu, "Open &data folder", w.reveal_data_folder)
    file_menu.addSeparator()
    add_action(w, file_menu, "&Quit", w.close, (QKeySequence.StandardKey.Quit,))
    edit_menu = bar.addMenu("&Edit")
    ed = w.editing
    add_action(w, edit_menu, "&Undo edit", ed.undo, (QKeySequence.StandardKey.Undo,))
    add_action(w, edit_menu, "&Redo edit", ed.redo, ("Ctrl+Shift+Z", "Ctrl+Y"))
    add_action(w, edit_menu, "&Delete selected points", ed.delete_selected, ("Del",))
    add_action(w, edit_menu, "Remove &floaters", ed.remove_floaters)
    add_action(w, edit_menu, "Re-&upsample the edited cloud", ed.reupsample)
    view_menu = bar.addMenu("&View")
    view_menu.addAction(w.gallery_dock.toggleViewAction())
    view_menu.addAction(w.log_dock.toggleViewAction())
    add_action(w, view_menu, "&Reset view", lambda: w.viewer and w.viewer.reset_view())
    models_menu = bar.addMenu("&Models")
    add_action(w, models_menu, "&Models…", lambda: w.open_models([]))
    help_menu = bar.addMenu("&Help")
    add_action(w, help_menu, "&Getting started", lambda: show_help(w, "help"), ("F1",))
    add_action(w, help_menu, "&Keyboard shortcuts", lambda: show_help(w, "shortcuts"))
    help_menu.addSeparator()
    add_action(w, help_menu, "&About Point-E Studio", w.show_about)
    return Actions(generate=generate, cancel=cancel, export=export)

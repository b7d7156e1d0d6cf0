"""History gallery: thumbnails of past results; click reloads, context menu reuses, deletes..."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem, QMenu, QWidget

from desktop.history import HistoryEntry

ROLE_ENTRY = Qt.ItemDataRole.UserRole + 1


class Gallery(QListWidget):
    """Newest first; a new result is selected and scrolled into view so it is easy to find."""

    openRequested = Signal(object)  # HistoryEntry
    deleteRequested = Signal(object)
    revealRequested = Signal(object)
    useSettingsRequested = Signal(object)  # HistoryEntry: put its prompt and settings back

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gallery")
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setIconSize(QSize(96, 96))
        self.setGridSize(QSize(118, 140))
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setMovement(QListWidget.Movement.Static)
        self.setWordWrap(True)
        self.setUniformItemSizes(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemClicked.connect(lambda item: self.openRequested.emit(self.entry(item)))
        self.itemActivated.connect(lambda item: self.openRequested.emit(self.entry(item)))

    def entry(self, item: QListWidgetItem) -> HistoryEntry:
        return item.data(ROLE_ENTRY)

    def entries(self) -> list[HistoryEntry]:
        return [self.entry(self.item(i)) for i in range(self.count())]

    def set_entries(self, entries: list[HistoryEntry]) -> None:
        self.clear()
        for entry in entries:
            self.add_entry(entry, at_top=False)

    def add_entry(
        self, entry: HistoryEntry, *, at_top: bool = True, select: bool | None = None
    ) -> QListWidgetItem:
        """Add a thumbnail; a new result (at the top, by default) is selected and shown."""
        title = entry.title if len(entry.title) <= 40 else entry.title[:37] + "…"
        item = QListWidgetItem(title)
        pix = QPixmap(str(entry.thumb_path)) if entry.thumb_path.is_file() else QPixmap()
        if not pix.isNull():
            item.setIcon(QIcon(pix))
        meta = entry.meta
        item.setToolTip(
            f"{entry.title}\nmodel {meta.get('model', '?')} · seed {meta.get('seed', '?')} · "
            f"{meta.get('n_points', '?')} points\n{meta.get('created', '')}"
        )
        item.setData(ROLE_ENTRY, entry)
        if at_top:
            self.insertItem(0, item)
        else:
            self.addItem(item)
        if at_top if select is None else select:
            self.setCurrentItem(item)  # selects only: openRequested is for clicks
            self.scrollToItem(item, QListWidget.ScrollHint.EnsureVisible)
        return item

    def selected_entry(self) -> HistoryEntry | None:
        item = self.currentItem()
        return None if item is None else self.entry(item)

    def use_settings(self, entry: HistoryEntry | None = None) -> bool:
        """The "Use these settings" action for `entry` (default: the selected one)."""
        entry = entry or self.selected_entry()
        if entry is None:
            return False
        self.useSettingsRequested.emit(entry)
        return True

    def remove_entry(self, entry: HistoryEntry) -> None:
        for i in range(self.count()):
            if self.entry(self.item(i)).key == entry.key:
                self.takeItem(i)
                return

    def _menu(self, pos: QPoint) -> None:
        item = self.itemAt(pos)
        if item is None:
            return
        entry = self.entry(item)
        menu = self.context_menu(entry)
        menu.exec(self.viewport().mapToGlobal(pos))
        menu.deleteLater()

    def context_menu(self, entry: HistoryEntry) -> QMenu:
        """The right-click menu for one entry (built separately so tests can trigger it)."""
        menu = QMenu(self)
        menu.addAction("Open", lambda: self.openRequested.emit(entry))
        use = menu.addAction("Use these settings", lambda: self.use_settings(entry))
        use.setToolTip("Put this result's prompt, model, seed and settings back in the side panel")
        menu.setToolTipsVisible(True)
        menu.addAction("Show in folder", lambda: self.revealRequested.emit(entry))
        menu.addSeparator()
        menu.addAction("Delete", lambda: self.deleteRequested.emit(entry))
        return menu

"""Widgets of the main window: side panel, prompt box, drop zone, gallery, log, progress."""

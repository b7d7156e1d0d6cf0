"""Dialogs of the desktop app: About, errors, models (written by the model-store engineer)."""

"""Settings: typed values with defaults, a capped prompt history, garbled values tolerated."""

from __future__ import annotations

from desktop.settings import MAX_PROMPT_HISTORY


def test_defaults_and_round_trip(settings):
    assert settings.get("generation/model") == "embedded"
    assert settings.get("view/grid") is True
    settings.set("generation/seed", 42)
    settings.set("view/grid", False)
    settings.sync()
    from PySide6.QtCore import QSettings

    from desktop.settings import Settings

    again = Settings(QSettings(settings.q.fileName(), QSettings.Format.IniFormat))
    assert again.get("generation/seed") == 42
    assert again.get("view/grid") is False


def test_garbled_values_fall_back_to_defaults(settings):
    settings.q.setValue("generation/seed", "not a number")
    assert settings.get("generation/seed") == 0


def test_prompt_history_is_deduplicated_and_capped(settings):
    for i in range(MAX_PROMPT_HISTORY + 5):
        settings.remember_prompt(f"prompt {i}")
    settings.remember_prompt("prompt 3")
    history = settings.prompt_history()
    assert len(history) == MAX_PROMPT_HISTORY
    assert history[0] == "prompt 3" and history.count("prompt 3") == 1

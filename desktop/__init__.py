"""Point-E Studio's desktop app (PySide6 + pyvistaqt): shows state, forwards intent."""

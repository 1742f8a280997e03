"""Qt (PySide6) user interface. Thin: turns events into calls on core and model."""

"""The main window, its actions, dialogs, settings and the wiring of the model features."""

"""Typed access to the user's QSettings (window layout, tool sizes, recent folders, last project).

Never pickled: every value is stored as a plain string/int/float/bytes so settings files stay
readable and safe to share between versions.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QSettings

from segstudio.model.training.options import TrainOption, form_options

MAX_RECENT = 10
TRAIN_PREFIX = "train/"  # the training form's options: train/<option name>


class Settings:
    """A thin wrapper that converts QSettings' loosely typed values to what the GUI needs."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings if qsettings is not None else QSettings()

    # --- generic typed getters -------------------------------------------------------------------
    def get_int(self, key: str, default: int) -> int:
        try:
            return int(self.q.value(key, default))
        except (TypeError, ValueError):
            return default

    def get_float(self, key: str, default: float) -> float:
        try:
            return float(self.q.value(key, default))
        except (TypeError, ValueError):
            return default

    def get_bool(self, key: str, default: bool) -> bool:
        value = self.q.value(key, default)
        if isinstance(value, str):
            return value.lower() in ("1", "true", "yes")
        return bool(value)

    def get_str(self, key: str, default: str = "") -> str:
        value = self.q.value(key, default)
        return str(value) if value is not None else default

    def get_bytes(self, key: str) -> QByteArray | None:
        value = self.q.value(key)
        return value if isinstance(value, QByteArray) else None

    def set(self, key: str, value) -> None:
        self.q.setValue(key, value)

    # --- training form ----------------------------------------------------------------------------
    def train_options(self) -> dict[str, Any]:
        """The training form's last values, ``{option name: value}``; the options table's default
        where nothing (or nothing readable) was saved. An unset number (lr, epochs) is ``None``."""
        return {option.name: self._option_value(option) for option in form_options()}

    def has_train_options(self) -> bool:
        """Whether the training form was ever saved (a fresh form starts with a time budget)."""
        return any(self.q.contains(TRAIN_PREFIX + option.name) for option in form_options())

    def set_train_options(self, values: dict[str, Any]) -> None:
        """Remember the form's values (None saved as an empty string)."""
        for option in form_options():
            value = values.get(option.name)
            self.q.setValue(TRAIN_PREFIX + option.name, "" if value is None else value)

    def _option_value(self, option: TrainOption) -> Any:
        key = TRAIN_PREFIX + option.name
        if option.is_switch:
            return self.get_bool(key, option.default)
        raw = self.q.value(key, None)
        if raw is None or raw == "":  # "" is how an unset lr or length is saved
            return option.default
        try:
            return option.type(raw)
        except (TypeError, ValueError):
            return option.default

    # --- recent folders --------------------------------------------------------------------------
    def recent_folders(self) -> list[str]:
        value = self.q.value("recent/folders", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or []) if v]

    def add_recent_folder(self, folder: str) -> list[str]:
        folders = [folder] + [f for f in self.recent_folders() if f != folder]
        folders = folders[:MAX_RECENT]
        self.q.setValue("recent/folders", folders)
        return folders

    # --- last project ----------------------------------------------------------------------------
    def last_project(self) -> tuple[str, str, str]:
        """(image_dir, class_file, save_dir) of the last opened project ('' where unset)."""
        return (
            self.get_str("project/image_dir"),
            self.get_str("project/class_file"),
            self.get_str("project/save_dir"),
        )

    def set_last_project(self, image_dir: str, class_file: str, save_dir: str) -> None:
        self.q.setValue("project/image_dir", image_dir)
        self.q.setValue("project/class_file", class_file)
        self.q.setValue("project/save_dir", save_dir)

"""Icons of the window's actions, from Material Design Icons drawn by qtawesome (a font bundled
with the package: sharp at any size and on any screen, no image files of ours to keep).

The checked state is drawn in the highlight's text colour, so the current tool stands out on the
highlighted button (see :data:`CHECKED_STYLE`).
"""

from __future__ import annotations

from PySide6.QtGui import QIcon, QPalette
from PySide6.QtWidgets import QApplication

# Action name -> Material Design Icons (mdi6) name.
ACTION_ICONS = {
    "open_folder": "folder-open-outline",
    "change_save_dir": "content-save-move-outline",
    "save": "content-save-outline",
    "prev_image": "chevron-left",
    "next_image": "chevron-right",
    "verify": "check-decagram-outline",
    "tool_brush": "brush",
    "tool_eraser": "eraser",
    "tool_polygon": "vector-polygon",
    "tool_rectangle": "rectangle-outline",
    "tool_fill": "format-color-fill",
    "tool_ignore": "cancel",
    "tool_grabcut": "selection-drag",
    "tool_wand": "auto-fix",
    "tool_segment": "gesture-tap",
    "undo": "undo",
    "redo": "redo",
    "fit_window": "fit-to-screen-outline",
    "zoom_in": "magnify-plus-outline",
    "zoom_out": "magnify-minus-outline",
    "show_mask": "eye-outline",
}

# Checked tool buttons (the current tool, a toggled view) are filled with the highlight colour.
CHECKED_STYLE = (
    "QToolButton:checked { background: palette(highlight); color: palette(highlighted-text);"
    " border-radius: 3px; }"
)


def action_icon(name: str) -> QIcon:
    """The icon of action ``name``; an empty icon for actions without one (or without qtawesome)."""
    glyph = ACTION_ICONS.get(name)
    if glyph is None or QApplication.instance() is None:
        return QIcon()
    try:
        import qtawesome
    except ImportError:  # an icon set is decoration: the window works without it
        return QIcon()
    palette = QApplication.instance().palette()
    return qtawesome.icon(
        f"mdi6.{glyph}",
        color=palette.color(QPalette.ColorRole.ButtonText),
        color_on=palette.color(QPalette.ColorRole.HighlightedText),
        color_disabled=palette.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText),
    )

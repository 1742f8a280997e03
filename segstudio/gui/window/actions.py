"""All QActions of the main window, their shortcuts, and the menus and tool bar built from them.

The window only connects ``actions[name].triggered`` to its handlers. Later features (training,
prediction) add their own actions with :meth:`Actions.add` and put them into a menu with
:meth:`Actions.menu`, without touching this table.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from segstudio.gui.canvas.canvas_tools import Tool
from segstudio.gui.window.icons import CHECKED_STYLE, action_icon


@dataclass(frozen=True)
class Spec:
    name: str
    text: str
    shortcuts: tuple[str, ...] = ()
    checkable: bool = False
    tip: str = ""


SPECS = [
    # File
    Spec("open_folder", "&Open folder…", ("Ctrl+U",), tip="Open a folder of images"),
    Spec("change_save_dir", "Change &save folder…", ("Ctrl+R",), tip="Where masks and XML are written"),
    Spec("open_class_file", "Open &class file…", ("Ctrl+Shift+C",)),
    Spec("open_demo", "Open &demo project"),
    Spec("save", "&Save", ("Ctrl+S",)),
    Spec("autosave", "&Autosave", checkable=True, tip="Save the mask after every stroke and when changing image"),
    Spec("quit", "&Quit", ("Ctrl+Q",)),
    # Edit
    Spec("undo", "&Undo", ("Ctrl+Z",)),
    Spec("redo", "&Redo", ("Ctrl+Y", "Ctrl+Shift+Z")),
    Spec("fill_unlabelled", "Fill &unlabelled with class", ("Shift+F",),
         tip="Give every background pixel the current class"),
    Spec("add_class", "&Add class…", ("Ctrl+Shift+N",)),
    Spec("your_name", "Your &name in shared folders…", tip="Who others see editing an image in a shared folder"),
    # Navigation
    Spec("prev_image", "&Previous image", ("A",)),
    Spec("next_image", "&Next image", ("D",)),
    Spec("verify", "&Verify image", ("Space",), tip="Mark the image verified (saved in the XML)"),
    # View
    Spec("zoom_in", "Zoom &in", ("Ctrl++", "Ctrl+Shift+=")),
    Spec("zoom_out", "Zoom &out", ("Ctrl+-",)),
    Spec("zoom_original", "&Original size (1:1)", ("Ctrl+=", "Ctrl+0")),
    Spec("fit_window", "&Fit window", ("Ctrl+F",)),
    Spec("fit_width", "Fit &width", ("Ctrl+Shift+F",)),
    Spec("show_mask", "Show &mask", ("Ctrl+H",), checkable=True),
    # Tools
    Spec("tool_brush", "&Brush", ("B",), checkable=True),
    Spec("tool_eraser", "&Eraser", ("E",), checkable=True),
    Spec("tool_polygon", "&Polygon", ("P",), checkable=True),
    Spec("tool_rectangle", "&Rectangle", ("R",), checkable=True),
    Spec("tool_fill", "&Fill", ("F",), checkable=True),
    Spec("tool_ignore", "&Ignore brush", ("I",), checkable=True, tip="Paint the ignore label 255"),
    Spec("tool_grabcut", "&GrabCut", ("G",), checkable=True,
         tip="Drag a box around an object; strokes refine, Enter accepts, Esc drops"),
    Spec("tool_wand", "Magic &wand", ("W",), checkable=True,
         tip="Click a region of similar colour; drag sideways for tolerance, Enter accepts"),
    Spec("tool_segment", "Click to &segment", ("S",), checkable=True,
         tip="Click an object (Shift+click: not this) or drag a box; a SAM model proposes its mask"),
    Spec("brush_smaller", "Brush s&maller", ("[",)),
    Spec("brush_larger", "Brush &larger", ("]",)),
    # Help
    Spec("shortcuts", "&Keyboard shortcuts", ("F1",)),
    Spec("about", "&About segstudio"),
]
SPECS += [Spec(f"class_{i}", f"Class {i}", (str(i),)) for i in range(1, 10)]
SPECS += [Spec("class_0", "Class 0 (background)", ("0",), tip="Background; after 1-9, classes 10 and up")]

TOOL_ACTIONS = {
    "tool_brush": Tool.BRUSH,
    "tool_eraser": Tool.ERASER,
    "tool_polygon": Tool.POLYGON,
    "tool_rectangle": Tool.RECTANGLE,
    "tool_fill": Tool.FILL,
    "tool_ignore": Tool.IGNORE,
    "tool_grabcut": Tool.GRABCUT,
    "tool_wand": Tool.WAND,
    "tool_segment": Tool.SEGMENT,
}

MENUS = {
    "&File": ["open_folder", "change_save_dir", "open_class_file", "open_demo", "@recent", None, "save",
              "autosave", None, "quit"],
    "&Edit": ["undo", "redo", None, "fill_unlabelled", "add_class", None, "your_name"],
    "&View": ["zoom_in", "zoom_out", "zoom_original", "fit_window", "fit_width", None, "show_mask", "@panels"],
    "&Go": ["prev_image", "next_image", "verify"],
    "&Tools": list(TOOL_ACTIONS) + [None, "brush_smaller", "brush_larger", None, "@classes"],
    "&Help": ["shortcuts", "about"],
}
TOOLBAR = ["open_folder", "change_save_dir", "save", None, "prev_image", "next_image", "verify", None] + list(
    TOOL_ACTIONS
) + [None, "undo", "redo", None, "fit_window"]


class Actions:
    """The window's actions by name, with the menus that hold them."""

    def __init__(self, window: QMainWindow) -> None:
        self.main_window = window  # the actions' owner: shortcuts, menu bar and tool bar live there
        self._actions: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {}
        for spec in SPECS:
            self.add(spec)
        self.tool_group = QActionGroup(window)
        self.tool_group.setExclusive(True)
        for name in TOOL_ACTIONS:
            self.tool_group.addAction(self[name])
        self.recent_menu = QMenu("Recent &folders", window)
        self.panels_menu = QMenu("&Panels", window)
        self.classes_menu = QMenu("&Select class", window)
        for i in range(1, 10):
            self.classes_menu.addAction(self[f"class_{i}"])

    def add(self, spec: Spec) -> QAction:
        """Create (and register on the window, so shortcuts work without menus) one action."""
        action = QAction(spec.text, self.main_window)
        if spec.shortcuts:
            action.setShortcuts([QKeySequence(s) for s in spec.shortcuts])
        action.setCheckable(spec.checkable)
        action.setIcon(action_icon(spec.name))
        tip = spec.tip or spec.text.replace("&", "").rstrip("…")
        if spec.shortcuts:
            tip += f" ({spec.shortcuts[0]})"
        action.setToolTip(tip)
        action.setStatusTip(tip)
        self.main_window.addAction(action)
        self._actions[spec.name] = action
        return action

    def __getitem__(self, name: str) -> QAction:
        return self._actions[name]

    def all(self) -> list[QAction]:
        return list(self._actions.values())

    def build_menus(self) -> None:
        bar = self.main_window.menuBar()
        specials = {"@recent": self.recent_menu, "@panels": self.panels_menu, "@classes": self.classes_menu}
        for title, names in MENUS.items():
            menu = bar.addMenu(title)
            self.menus[title.replace("&", "")] = menu
            for name in names:
                if name is None:
                    menu.addSeparator()
                elif name in specials:
                    menu.addMenu(specials[name])
                else:
                    menu.addAction(self[name])

    def menu(self, title: str) -> QMenu:
        """The menu called ``title`` (without '&'), created before Help if it does not exist."""
        if title not in self.menus:
            help_menu = self.menus.get("Help")
            menu = QMenu(title, self.main_window)
            if help_menu is not None:
                self.main_window.menuBar().insertMenu(help_menu.menuAction(), menu)
            else:
                self.main_window.menuBar().addMenu(menu)
            self.menus[title] = menu
        return self.menus[title]

    def build_toolbar(self) -> QToolBar:
        toolbar = QToolBar("Tools", self.main_window)
        toolbar.setObjectName("main_toolbar")
        toolbar.setIconSize(QSize(22, 22))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        toolbar.setStyleSheet(CHECKED_STYLE)
        for name in TOOLBAR:
            if name is None:
                toolbar.addSeparator()
            else:
                toolbar.addAction(self[name])
        return toolbar

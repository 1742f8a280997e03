"""What the labelling window remembers between runs (QSettings): geometry, dock layout, tool sizes,
autosave, the image last shown. Kept out of app_window so the window itself stays assembly and glue."""

from __future__ import annotations

from PySide6.QtCore import Qt

from segstudio.gui.canvas.canvas_tools import Tool


def restore(window) -> None:
    """Apply the saved state to a freshly built ``window`` (defaults on the first start)."""
    st = window.settings
    geometry, state = st.get_bytes("window/geometry"), st.get_bytes("window/state")
    if geometry is not None:
        window.restoreGeometry(geometry)
    else:
        window.resize(1280, 820)
    if state is not None:
        window.restoreState(state)
    else:
        default_dock_sizes(window)
    tools = window.tools
    tools.set_brush_size(st.get_int("tools/brush_size", 15))
    window.tool_dock.set_brush_size(tools.brush_size)
    window.view.set_opacity(st.get_float("tools/opacity", 0.5))
    window.tool_dock.set_opacity(window.mask_layer.opacity)
    tools.fill_tolerance = st.get_int("tools/fill_tolerance", 0)
    window.tool_dock.set_tolerance(tools.fill_tolerance)
    try:
        tools.set_tool(Tool(st.get_str("tools/tool", Tool.BRUSH.value)))
    except ValueError:
        pass
    window.actions["autosave"].setChecked(st.get_bool("file/autosave", True))
    window.session.autosave = window.actions["autosave"].isChecked()


CLASS_ROWS = 8           # class rows in view on a first start (six at 1280x820 led to mis-clicks)
CLASS_MAX_SHARE = 0.36   # of the dock column's height: the tabbed docks (files, training) keep the rest


def default_dock_sizes(window) -> None:
    """First start: a dock column wide enough for the training form (about a quarter of the
    window, 330-520 px), room for ``CLASS_ROWS`` classes (at most ``CLASS_MAX_SHARE`` of the
    height, at least 28 %) and the rest for the tabbed docks (files, training...)."""
    width = max(330, min(520, window.width() // 4))
    window.resizeDocks([window.class_dock], [width], Qt.Orientation.Horizontal)
    height = max(300, window.height() - 120)
    tools = window.tool_dock.minimumSizeHint().height()
    classes = min(int(height * CLASS_MAX_SHARE), max(height * 28 // 100, _class_dock_for_rows(window, CLASS_ROWS)))
    window.resizeDocks([window.class_dock, window.tool_dock, window.file_dock],
                       [classes, tools, height - classes - tools], Qt.Orientation.Vertical)


def _class_dock_for_rows(window, rows: int) -> int:
    """The class dock's height that shows ``rows`` rows: what it has now, less its list's viewport,
    plus that many rows (the height of a row as the list draws it, or of its font's line)."""
    dock, tree = window.class_dock, window.class_dock.tree
    row = tree.sizeHintForRow(0) if tree.topLevelItemCount() else -1
    row = row if row > 0 else tree.fontMetrics().height() + 6
    # from size hints, not geometry: on a first start this runs before the window is shown
    others = dock.sizeHint().height() - tree.sizeHint().height()
    return others + tree.header().sizeHint().height() + 2 * tree.frameWidth() + rows * row


def save(window) -> None:
    """Write the window's state (on a confirmed close)."""
    st, tools, session = window.settings, window.tools, window.session
    st.set("window/geometry", window.saveGeometry())
    st.set("window/state", window.saveState())
    st.set("tools/brush_size", tools.brush_size)
    st.set("tools/opacity", window.mask_layer.opacity)
    st.set("tools/fill_tolerance", tools.fill_tolerance)
    st.set("tools/tool", tools.tool.value)
    st.set("file/autosave", session.autosave)
    if session.target_entry is not None:
        st.set("project/last_image", session.target_entry.image_path.name)
    st.q.sync()

"""The project's class list while an import writes masks into it.

A mask stores class indices, so it means something only with the class list it was written with.
Every import (labelme, VOC, COCO, YOLO, Hugging Face, boxes to masks) therefore shares these rules:

- It starts from the project's ``classes.txt``; where there is none, from the list recorded in
  ``.segstudio/project.json`` (the masks already there were written with it); else from nothing,
  and the dataset's names then come in the dataset's order, so that indices stay the dataset's.
- When ``classes.txt`` and the recorded list disagree (an index now names another class), the
  import refuses to run: the window asks the user which list is right, and masks imported in
  between would carry the meaning of neither.
- New names are appended, never inserted or reordered, and ``classes.txt`` is written (atomically)
  before the first mask that uses them: whenever an import stops (a bad file, a kill), every mask
  on disk holds classes that ``classes.txt`` lists.
- A name that cannot be a class (:func:`~.classes.check_class_name`: a line break, a control
  character, nothing but spaces; or no index left) is refused, warned once naming where it came
  from, and the shapes of that class are skipped and counted per file, never painted under the
  index of another class.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .classes import (
    IGNORE_LINE,
    MAX_CLASSES,
    ClassList,
    check_class_name,
    class_file_lines,
    load_class_file,
    save_class_file,
)
from .errors import AnnotationFormatError, ClassFileError
from .project_file import CHANGED, compare_class_lists, describe_change, read_settings, recorded_class_names
from .safe_read import CLASS_FILE_LIMIT, read_text

CLASS_FILE_NAME = "classes.txt"
_FULL = "the class list is full"


def read_name_lines(path: str | os.PathLike, what: str = "class file") -> list[str]:
    """The names of a dataset's class-per-line file (YOLO ``classes.txt``, VOC ``class_names.txt``):
    line k is class k, so no line is dropped or merged (a blank line keeps its place, to be refused
    if a shape uses it; only labelme's ``__ignore__`` line takes no index, as in our class files);
    lines are split at "\\n" only (:func:`~.classes.class_file_lines`) and trailing blank lines are
    ignored. Regular files only, size bounded."""
    lines = class_file_lines(read_text(path, CLASS_FILE_LIMIT, ClassFileError, what))
    names = [line.strip() for line in lines if line.strip() != IGNORE_LINE]
    while names and not names[-1]:
        names.pop()
    if not names:
        raise ClassFileError(f"{what} {path} names no class")
    return names


def skipped_line(where: str, counts: Counter) -> str | None:
    """One warning for the shapes of one file that were skipped, by reason ("refused class 'x'",
    "unknown category 7"), however many there are (None when none were)."""
    if not counts:
        return None
    shown = ", ".join(f"{count} × {why}" for why, count in counts.most_common(5))
    more = f" and {len(counts) - 5} more" if len(counts) > 5 else ""
    return f"{where}: {sum(counts.values())} shape(s) skipped ({shown}{more})"


class ImportClasses:
    """The class list an import extends (see the module docstring for the rules)."""

    def __init__(self, save_dir: str | os.PathLike, warnings: list[str], added: list[str]) -> None:
        """``warnings`` and ``added`` are the caller's report lists, appended to as things happen."""
        self.path = Path(save_dir) / CLASS_FILE_NAME
        self.warnings, self.added = warnings, added
        self._refused: set[str] = set()
        self.classes, self.fresh = self._start(Path(save_dir))
        self._dirty = not os.path.lexists(self.path)  # a project without classes.txt gets one

    def _start(self, save_dir: Path) -> tuple[ClassList, bool]:
        """The list to extend and whether the project had none at all."""
        settings, _ = read_settings(save_dir)  # a broken project.json is reported by the window
        recorded = recorded_class_names(settings)
        if os.path.lexists(self.path):  # a folder or a pipe there is reported, not replaced
            classes, warnings = load_class_file(self.path)
            self.warnings.extend(warnings)
            if recorded is not None and compare_class_lists(recorded, classes.names) == CHANGED:
                raise AnnotationFormatError(
                    f"{self.path} differs from the class list this project's masks were written with "
                    f"({describe_change(recorded, classes.names)}): open the project in segstudio to settle "
                    "which list is right, then import again")
            return classes, False
        if recorded is not None:
            try:
                return ClassList(recorded), False
            except ClassFileError as exc:
                raise AnnotationFormatError(f"the class list recorded in {save_dir} is unusable: {exc}") from exc
        return ClassList(), True

    def seed(self, names: Iterable[object], source: str) -> None:
        """A new project takes the dataset's classes in the dataset's order (refused ones warned)."""
        if self.fresh:
            for name in names:
                self.value_for(name, source)

    def adopt(self, given: ClassList, source: str) -> None:
        """A class list the user gave: taken as it is by a new project, else its missing names appended."""
        if self.fresh and not self.added:
            self.classes, self._dirty = given.copy(), True
            return
        for name in given.names:
            self.value_for(name, source)

    def value_for(self, name: object, source: str) -> int | None:
        """Project index of class ``name`` (appended when new), or None when it is refused: the
        refusal is warned once, naming ``source``; the caller skips the shape and counts it."""
        text = name.strip() if isinstance(name, str) else name
        if isinstance(text, str) and text in self.classes:
            return self.classes.index_of(text)
        if repr(text) in self._refused or _FULL in self._refused:
            return None
        try:
            checked = check_class_name(text)
        except ClassFileError as exc:
            self._refuse(repr(text), f"{source}: class {text!r} refused ({exc}); its shapes are skipped")
            return None
        if len(self.classes) >= MAX_CLASSES:
            self._refuse(_FULL, f"{source}: class {text!r} refused ({_FULL}: {MAX_CLASSES} classes); "
                                "it and every later new class are skipped")
            return None
        index = self.classes.add(checked)
        self.added.append(checked)
        self._dirty = True
        return index

    def _refuse(self, key: str, warning: str) -> None:
        self._refused.add(key)
        self.warnings.append(warning)

    def save(self) -> None:
        """Write ``classes.txt`` (atomically) if it lacks a name of the list: called before every
        mask is written, so that no mask on disk ever holds a class that the file does not list."""
        if self._dirty:
            save_class_file(self.path, self.classes)
            self._dirty = False

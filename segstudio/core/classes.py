"""The class list: names, colours and the file format shared with labelImg and labelme.

A class file has one name per line and the line number is the class index (labelImg's
``predefined_classes.txt`` / ``classes.txt``). Index 0 is always the background, so a file that does
not start with ``background`` (or labelme's ``_background_``) gets one inserted and the user is told.
A line ``__ignore__`` (labelme's ``labels.txt``) names the ignore label 255 and takes no index.
Problems that change the meaning of indices (inserted background, blank lines, duplicates) come back
as human-readable warnings instead of being fixed silently.

Colours are not stored in the file (it stays labelImg's format): a class gets the Pascal VOC colour
of its index unless the user chose another one, which the project keeps by class name in its settings
(:meth:`ClassList.colour_map` / :meth:`ClassList.apply_colour_map`, see ``core.project``).
Deleting or reordering returns a 256-entry lookup table that rewrites old masks to the new
indices (:func:`apply_remap`).
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from .atomic import atomic_write_text
from .errors import ClassFileError
from .palette import IGNORE_INDEX, class_colour, voc_palette
from .safe_read import CLASS_FILE_LIMIT, read_limited

BACKGROUND_NAMES = ("background", "_background_")
IGNORE_LINE = "__ignore__"
MAX_CLASSES = IGNORE_INDEX  # indices 0..254; 255 is the ignore label

Colour = tuple[int, int, int]


# Characters that end a line for Python's str.splitlines() besides "\n" and "\r", or that no text file or
# XML can hold. A name holding one would be split into two lines by any reader that splits lines by
# Unicode's rules, and every later class would shift one index: refused wherever a name enters.
_LINE_CATEGORIES = ("Cc", "Cs", "Zl", "Zp")  # controls (\t \n \v \f \x1c-\x1e \x85...), surrogates, U+2028/9


def unwritable_character(text: str) -> str | None:
    """The first character a class name cannot hold: control characters (newlines, tabs, form feed,
    U+0085 included: one name per line), Unicode's line and paragraph separators (U+2028, U+2029),
    lone surrogates and the non-characters U+FFFE/U+FFFF, which neither a class file nor XML can store."""
    for char in text:
        if unicodedata.category(char) in _LINE_CATEGORIES or char in "\ufffe\uffff":
            return char
    return None


def check_class_name(name: object) -> str:
    """Return ``name`` if it can be a class name (one line of a class file, an XML object name),
    else raise :class:`ClassFileError` with one clear reason; nothing is fixed silently.

    The one rule for every way a name enters: a class file, the window, an import (COCO, YOLO,
    labelme, VOC, Hugging Face), a model's class list.
    """
    if not isinstance(name, str):
        raise ClassFileError(f"a class name must be text, got {name!r}")
    if not name.strip():
        raise ClassFileError("a class name cannot be empty")
    bad = unwritable_character(name)
    if bad is not None:
        raise ClassFileError(f"a class name cannot hold the character U+{ord(bad):04X}: {name!r}")
    if name != name.strip():
        raise ClassFileError(f"a class name cannot start or end with a space: {name!r}")
    if name == IGNORE_LINE:
        raise ClassFileError(f"{IGNORE_LINE!r} is reserved for the ignore label 255")
    return name


def class_file_lines(text: str) -> list[str]:
    """The lines of a class file's text: split at "\n" only (a "\r" before it is dropped, as Notepad
    writes), never at the other characters ``str.splitlines`` takes for line ends, so that a reader
    and a writer agree on which line, hence which index, a name is; such a character inside a line
    is then refused by :func:`check_class_name` instead of silently shifting later classes."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


@dataclass
class ClassList:
    """Class names and colours; the list index is the value painted in masks."""

    names: list[str] = field(default_factory=lambda: ["background"])
    colours: list[Colour] = field(default_factory=list)
    ignore_name: str | None = None

    def __post_init__(self) -> None:
        if not self.names:
            self.names = ["background"]
        for name in self.names:
            check_class_name(name)
        if len(self.names) > MAX_CLASSES:
            raise ClassFileError(f"at most {MAX_CLASSES} classes are possible, got {len(self.names)}")
        # Missing colours default to the VOC colour of their index.
        self.colours = [_colour(c) for c in self.colours[: len(self.names)]]
        self.colours += [class_colour(i) for i in range(len(self.colours), len(self.names))]

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        try:
            self.index_of(name)
        except KeyError:
            return False
        return True

    def index_of(self, name: str) -> int:
        """Index of ``name``; background aliases map to 0 and the ignore name to 255.

        Raises ``KeyError`` for an unknown name.
        """
        name = name.strip()
        if name in self.names:
            return self.names.index(name)
        if name in BACKGROUND_NAMES:
            return 0
        if name == IGNORE_LINE or (self.ignore_name is not None and name == self.ignore_name):
            return IGNORE_INDEX
        raise KeyError(name)

    def name_of(self, index: int) -> str:
        """Name of class ``index`` (the ignore label and unknown values get a readable stand-in)."""
        if 0 <= index < len(self.names):
            return self.names[index]
        if index == IGNORE_INDEX:
            return self.ignore_name or IGNORE_LINE
        return f"class {index}"

    def add(self, name: str, colour: Colour | None = None) -> int:
        """Append a class and return its index."""
        name = check_class_name(name)
        if name in self.names or name in BACKGROUND_NAMES:
            raise ClassFileError(f"class {name!r} already exists")
        if len(self.names) >= MAX_CLASSES:
            raise ClassFileError(f"cannot add {name!r}: at most {MAX_CLASSES} classes are possible")
        self.names.append(name)
        index = len(self.names) - 1
        self.colours.append(_colour(colour) if colour is not None else class_colour(index))
        return index

    def rename(self, index: int, name: str) -> None:
        """Rename class ``index``; indices, hence masks, are unchanged."""
        self._check_index(index)
        name = check_class_name(name)
        if name in self.names and self.names.index(name) != index:
            raise ClassFileError(f"class {name!r} already exists")
        self.names[index] = name

    def delete(self, index: int) -> np.ndarray:
        """Remove class ``index``; returns the LUT for masks: it becomes 0, later ones shift down."""
        self._check_index(index)
        if index == 0:
            raise ClassFileError("the background class (index 0) cannot be deleted")
        order = [i for i in range(len(self.names)) if i != index]
        lut = self._apply_order(order)
        lut[index] = 0
        return lut

    def reorder(self, new_order: list[int]) -> np.ndarray:
        """Reorder classes: ``new_order[i]`` is the old index now at ``i``; returns the old→new LUT."""
        n = len(self.names)
        if sorted(new_order) != list(range(n)):
            raise ClassFileError(f"a new order must list each of the {n} class indices once: {new_order}")
        if new_order[0] != 0:
            raise ClassFileError("the background class must stay at index 0")
        return self._apply_order(list(new_order))

    def _apply_order(self, order: list[int]) -> np.ndarray:
        """Keep the classes ``order`` lists, in that order; returns the LUT old index → new index.

        Every class keeps its colour, default or chosen: a user who moves "car" up still sees car
        in teal. (A colour that is no longer its new index's default is then stored by name with
        the project's settings, see :meth:`colour_map`, so it survives a reload.)
        """
        lut = np.arange(256, dtype=np.uint8)
        names, colours = [], []
        for new, old in enumerate(order):
            lut[old] = new
            names.append(self.names[old])
            colours.append(self.colours[old])
        self.names, self.colours = names, colours
        return lut

    def _check_index(self, index: int) -> None:
        if not 0 <= index < len(self.names):
            raise ClassFileError(f"no class with index {index} (there are {len(self.names)})")

    def colour_table(self) -> np.ndarray:
        """(256, 3) uint8 colours for every label value: classes first, VOC colours for the rest."""
        table = voc_palette().copy()
        table[: len(self.colours)] = np.asarray(self.colours, dtype=np.uint8).reshape(-1, 3)
        return table

    def apply_colour_map(self, mapping: dict[str, str]) -> list[str]:
        """Give the classes named in ``mapping`` ({name: "#rrggbb"}) those colours; returns warnings
        for values that are not colours (names that are not classes are ignored: the map may be
        shared by several class lists)."""
        warnings = []
        for name, value in mapping.items():
            if name not in self.names:
                continue
            try:
                self.colours[self.names.index(name)] = colour_from_hex(value)
            except ValueError:
                warnings.append(f"class colour of {name!r} is not a #rrggbb colour: {value!r}")
        return warnings

    def colour_map(self) -> dict[str, str]:
        """{name: "#rrggbb"} of every class whose colour is not its index's default."""
        return {
            name: colour_to_hex(colour)
            for index, (name, colour) in enumerate(zip(self.names, self.colours))
            if tuple(colour) != class_colour(index)
        }

    def copy(self) -> ClassList:
        return ClassList(list(self.names), list(self.colours), self.ignore_name)

    @classmethod
    def default(cls) -> ClassList:
        """The bundled class list (background + the 20 Pascal VOC classes)."""
        text = resources.files("segstudio.resources").joinpath("predefined_classes.txt").read_text("utf-8-sig")
        classes, _ = parse_class_lines(class_file_lines(text))
        return classes


def parse_class_lines(lines: list[str]) -> tuple[ClassList, list[str]]:
    """Build a ClassList from the lines of a class file; returns it with the warnings."""
    warnings: list[str] = []
    names: list[str] = []
    ignore_name: str | None = None
    last = max((i for i, line in enumerate(lines) if line.strip()), default=-1)
    for number, raw in enumerate(lines[: last + 1], start=1):
        name = raw.strip()
        bad = unwritable_character(name)
        if bad is not None:  # refusing beats dropping the line, which would shift every later index
            raise ClassFileError(f"line {number}: class name {name!r} holds the character U+{ord(bad):04X}")
        if name and raw != name:
            warnings.append(f"line {number}: spaces around {name!r} ignored")
        if not name:
            warnings.append(f"line {number}: blank line skipped (later classes move up one index)")
        elif name == IGNORE_LINE:
            if ignore_name is not None:
                warnings.append(f"line {number}: {IGNORE_LINE} given twice; the repeat is ignored")
            ignore_name = IGNORE_LINE
        elif name in names or (names and name in BACKGROUND_NAMES and names[0] in BACKGROUND_NAMES):
            warnings.append(f"line {number}: duplicate class {name!r} dropped")
        else:
            names.append(name)
    if not names:
        warnings.append("no classes in the file: only the background class is defined")
        names = ["background"]
    elif names[0] not in BACKGROUND_NAMES:
        warnings.append(
            f"the first class is {names[0]!r}, not background: 'background' inserted as class 0, "
            "so every listed class is one index higher than its line number"
        )
        names.insert(0, "background")
        later = [n for n in names[1:] if n in BACKGROUND_NAMES]
        if later:
            warnings.append(f"background listed after other classes ({later[0]!r}): dropped")
            names = [names[0]] + [n for n in names[1:] if n not in BACKGROUND_NAMES]
    if len(names) > MAX_CLASSES:
        raise ClassFileError(f"{len(names)} classes; at most {MAX_CLASSES} are possible (255 is ignore)")
    return ClassList(names, ignore_name=ignore_name), warnings


def load_class_file(path: str | os.PathLike) -> tuple[ClassList, list[str]]:
    """Read a class file (UTF-8, BOM accepted); returns the classes and human-readable warnings."""
    path = Path(path)
    data = read_limited(path, CLASS_FILE_LIMIT, ClassFileError, "class file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ClassFileError(f"class file {path} is not UTF-8 text (byte {exc.start})") from exc
    if "\x00" in text:
        raise ClassFileError(f"class file {path} is not a text file")
    try:
        classes, warnings = parse_class_lines(class_file_lines(text))
    except ClassFileError as exc:
        raise ClassFileError(f"{path}: {exc}") from exc
    return classes, [f"{path.name}: {w}" for w in warnings]


def class_file_text(classes: ClassList) -> str:
    """The class file's text: one name per line (line number = index); colours are not stored."""
    return "".join(f"{name}\n" for name in classes.names)


def save_class_file(path: str | os.PathLike, classes: ClassList) -> None:
    """Write :func:`class_file_text` atomically."""
    atomic_write_text(path, class_file_text(classes))


def _colour(values: Iterable[int]) -> Colour:
    """(r, g, b) as plain ints (a colour may come as numpy values or a list)."""
    r, g, b = (int(v) for v in values)
    return r, g, b


def colour_to_hex(colour: Colour) -> str:
    r, g, b = (int(v) for v in colour)
    return f"#{r:02x}{g:02x}{b:02x}"


def colour_from_hex(text: str) -> Colour:
    """Parse "#rrggbb" (ValueError otherwise)."""
    if not isinstance(text, str) or len(text) != 7 or text[0] != "#":
        raise ValueError(f"not a #rrggbb colour: {text!r}")
    value = int(text[1:], 16)
    return (value >> 16) & 255, (value >> 8) & 255, value & 255


def apply_remap(label: np.ndarray, lut: np.ndarray) -> np.ndarray:
    """Rewrite a label map through a (256,) uint8 lookup table (from delete/reorder)."""
    lut = np.asarray(lut, dtype=np.uint8)
    if lut.shape != (256,):
        raise ValueError(f"a remap table has 256 entries, got shape {lut.shape}")
    return np.take(lut, np.asarray(label, dtype=np.uint8))

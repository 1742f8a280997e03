"""A project: a folder of images, a save folder of masks and VOC XML, and the class list.

The layout is labelImg's: ``segstudio IMAGE_DIR [CLASS_FILE] [SAVE_DIR]``, the save folder defaulting
to the image folder. Each image ``<stem>.<ext>`` has its mask at ``SAVE_DIR/<stem>.png`` and its
boxes at ``SAVE_DIR/<stem>.xml``. The classes live in ``SAVE_DIR/classes.txt``; when that file does not
exist yet, the class file given (labelImg's ``predefined_classes.txt``) or the bundled default seeds
the list, and ``classes.txt`` is written with the first save.

Per-project settings that labelImg's files have no room for (class colours by name under
``"class_colours"``, the training dock's ``"active_model"``, the class list the masks were written
with...) live in ``SAVE_DIR/.segstudio/project.json`` (:attr:`Project.settings`,
:meth:`Project.save_settings`, read and written by ``core.project_file``). When classes.txt (or a
class file given on the command line) no longer matches the recorded list, the project opens with
the recorded list and :attr:`Project.class_conflict` says so.
Opening a project also finishes a class rewrite that a crash interrupted (see ``core.journal``).

A ``.png`` in the image folder whose stem is also the stem of another image is a mask (saved beside
its photo, labelImg's default layout), not an image, if it looks like one (one 8-bit channel, its
image's size: see ``core.images.without_masks``); otherwise it is a second photo. A file is never
overwritten by a mask when it is not one: a ``.png`` image whose mask would be itself, and images
that share a stem (and so would share a mask file; stems that differ only by case count as one, as
on Windows and macOS: ``core.portable_names``), cannot have a mask; saving raises
:class:`SaveError` saying what to rename or which save folder to choose
(:attr:`ImageEntry.mask_blocked`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import images, mask_repair, masks, platform_io, portable_names, project_file
from .atomic import atomic_write_bytes, remove_stale_temporaries
from .classes import ClassList, load_class_file, save_class_file
from .errors import SaveError, SegStudioError
from .journal import STATE_FOLDER, complete_journal
from .palette import IGNORE_INDEX
from .voc_xml import annotation_from_mask, annotation_to_xml

CLASS_FILE_NAME = "classes.txt"
_VERIFIED = re.compile(rb"<annotation\b[^>]*\bverified\s*=\s*[\"']yes[\"']", re.IGNORECASE)


@dataclass(frozen=True)
class ImageEntry:
    """One image of the project and where its mask and XML go."""

    image_path: Path
    mask_path: Path
    xml_path: Path
    # Why this image cannot have a mask file (None: it can): its mask path is another image, or
    # another image of the folder has the same stem, hence the same mask path.
    mask_blocked: str | None = None

    @property
    def stem(self) -> str:
        return self.image_path.stem

    @property
    def mask_is_image(self) -> bool:
        """True when the mask path is the image itself (a .png image saved in its own folder)."""
        return self.mask_path == self.image_path


@dataclass
class ClassConflict:
    """classes.txt (or the command-line class file) differs from the list the masks were written with."""

    recorded: list[str]  # the masks' list, index order (in use until the user chooses)
    proposed: ClassList  # the list asked for
    message: str

    def remap_lut(self) -> np.ndarray:
        """Old index → new index by class name; a class no longer listed becomes ignore (255)."""
        lut = np.arange(256, dtype=np.uint8)
        for old, name in enumerate(self.recorded):
            lut[old] = self.proposed.names.index(name) if name in self.proposed.names else IGNORE_INDEX
        return lut


class Project:
    """Images, their masks and XML, and the classes, for one image folder and save folder."""

    def __init__(
        self,
        image_dir: str | os.PathLike,
        save_dir: str | os.PathLike | None = None,
        class_file: str | os.PathLike | None = None,
        read_only: bool = False,
    ) -> None:
        """``read_only``: another process has the project open (its lock), so opening writes
        nothing: the class list is not recorded and classes.txt is not seeded."""
        self.read_only = read_only
        self.image_dir = Path(image_dir).resolve()
        self.save_dir = Path(save_dir).resolve() if save_dir is not None else self.image_dir
        self.class_file = Path(class_file) if class_file is not None else None
        self.listing_warnings: list[str] = []
        self._verified_cache: dict[Path, tuple[tuple[int, int], bool]] = {}
        self.recovered_files = complete_journal(self.save_dir)
        self.removed_temporaries = self._remove_stale_temporaries()
        self.settings, settings_warnings = project_file.read_settings(self.save_dir)
        self._settings_broken = bool(settings_warnings)  # not replaced on open (only by a user's save)
        self.classes, self.class_warnings, self._class_source = self._load_classes()
        self.class_warnings += settings_warnings
        self.class_conflict: ClassConflict | None = None
        self._check_recorded_classes()
        if self.class_conflict is not None:
            self.class_conflict.proposed.apply_colour_map(self._colour_settings())
        self.class_warnings += self.classes.apply_colour_map(self._colour_settings())
        self.entries: list[ImageEntry] = []
        self.refresh()

    @property
    def class_path(self) -> Path:
        return self.save_dir / CLASS_FILE_NAME

    @property
    def settings_path(self) -> Path:
        return project_file.settings_path(self.save_dir)

    def _remove_stale_temporaries(self) -> list[Path]:
        """Temporaries of saves a kill interrupted, in the save folder and the state folder."""
        if self.read_only:  # another process has it open: a recent temporary may be its live save
            return []
        removed = remove_stale_temporaries(self.save_dir)
        return removed + remove_stale_temporaries(self.save_dir / STATE_FOLDER)

    def _colour_settings(self) -> dict[str, str]:
        colours = self.settings.get("class_colours")
        return colours if isinstance(colours, dict) else {}

    def check_writable(self) -> None:
        """SaveError when the project was opened read-only: the one question every writer of the
        project's files (masks, XML, classes.txt, project.json) asks before writing."""
        if self.read_only:
            raise SaveError(f"{self.save_dir} is open read-only (another window or process has it); nothing is written")

    def save_settings(self) -> None:
        """Write :attr:`settings` atomically, merged over the file on disk (see core.project_file)."""
        self.check_writable()
        self.settings = project_file.write_settings(self.save_dir, self.settings)

    def save_class_colours(self) -> None:
        """Store the user's class colours (by name) in project.json."""
        self.settings["class_colours"] = self.classes.colour_map()
        self.save_settings()

    def _load_classes(self) -> tuple[ClassList, list[str], Path | None]:
        if os.path.lexists(self.class_path):  # a folder or a pipe there is reported, not skipped
            classes, warnings = load_class_file(self.class_path)
            return classes, warnings, self.class_path
        if self.class_file is not None:
            classes, warnings = load_class_file(self.class_file)
            return classes, warnings, self.class_file
        return ClassList.default(), [], None

    def _wanted_classes(self, recorded: list[str] | None) -> tuple[ClassList, Path | None]:
        """The class list asked for: classes.txt, unless a class file given on the command line
        differs from the project's list (it is then not silently ignored)."""
        if self.class_file is None or self._class_source != self.class_path:
            return self.classes, self._class_source
        if self.class_file.resolve() == self.class_path.resolve():
            return self.classes, self._class_source
        given, warnings = load_class_file(self.class_file)
        if given.names == (recorded or self.classes.names):
            return self.classes, self._class_source
        self.class_warnings += warnings
        return given, self.class_file

    def _check_recorded_classes(self) -> None:
        """Compare the class list asked for with the one the masks were written with (project.json).

        Same, or names only appended: the list is used (and recorded). Otherwise the recorded list is
        used, so masks keep their meaning, and :attr:`class_conflict` asks the window to choose.
        """
        recorded = project_file.recorded_class_names(self.settings)
        if recorded is None and project_file.CLASS_LIST_KEY in self.settings:
            self.class_warnings.append(f"the class list recorded in {self.settings_path} is not a list of at "
                                       "most 255 class names: ignored")
        wanted, source = self._wanted_classes(recorded)
        if recorded is None and self.class_file is not None and source == self.class_file != self._class_source:
            recorded = list(self.classes.names)  # the command line overrides an unrecorded classes.txt
        if recorded is None:
            if self.class_path.is_file() and not self._settings_broken:
                self._record_classes_quietly()
            return
        relation = project_file.compare_class_lists(recorded, wanted.names)
        if relation == project_file.CHANGED:
            where = source.name if source is not None else "the default class list"
            message = (f"{where} differs from the class list this project's masks were written with "
                       f"({project_file.describe_change(recorded, wanted.names)})")
            self.classes = ClassList(list(recorded), ignore_name=wanted.ignore_name)
            self.class_conflict = ClassConflict(list(recorded), wanted, message)
            return
        self.classes = wanted
        if relation == project_file.APPENDED or source != self.class_path:
            if source != self.class_path and self.class_path.is_file():
                self._save_classes_quietly()
            else:
                self._record_classes_quietly()

    def _record_classes_quietly(self) -> None:
        if self.read_only:
            return
        try:
            self.record_classes()
        except (OSError, SaveError) as exc:  # a read-only folder, a full disk: asked again next time
            self.class_warnings.append(f"class list not recorded in {self.settings_path}: {_reason(exc)}")

    def _save_classes_quietly(self) -> None:
        if self.read_only:
            return
        try:
            self.save_classes()
        except (OSError, SaveError) as exc:
            self.class_warnings.append(f"{self.class_path} not written: {_reason(exc)}")

    def record_classes(self) -> None:
        """Record the current class list as the one the masks are written with (project.json)."""
        self.settings[project_file.CLASS_LIST_KEY] = list(self.classes.names)
        self.save_settings()

    def add_classes(self, names: list[str]) -> None:
        """Append classes and write classes.txt, all or nothing: on any failure the class list is
        as it was and SegStudioError says why (a mask repair adds the classes a mask holds)."""
        old = self.classes.copy()
        try:
            for name in names:
                self.classes.add(name)
            self.save_classes()
        except (SegStudioError, OSError) as exc:
            self.classes.names, self.classes.colours = old.names, old.colours
            raise SegStudioError(f"classes not added: {exc}") from exc

    def use_recorded_classes(self) -> None:
        """Resolve :attr:`class_conflict` by keeping the recorded list: classes.txt is rewritten."""
        self.save_classes()
        self.class_conflict = None

    def refresh(self) -> None:
        """Re-list the image folder (natural order).

        Images that share a stem (``beach.jpg`` and ``beach.png``, a photo rather than a mask)
        would share one mask file, so none of them gets one: their masks cannot be saved, they
        count as unlabelled, and one listing warning says which files to rename. So do images
        whose stems differ only by case (``Cat.jpg``, ``cat.jpg``): Windows and macOS keep one file
        for both masks. A name Windows cannot hold (``CON.jpg``) is said too; its mask still saves.
        """
        # Masks beside their photos are no images to label, whichever save folder is chosen (the
        # same rule as predict and evaluate).
        files = images.without_masks(images.list_images(self.image_dir))
        by_key: dict[str, list[Path]] = {}
        for path in files:
            by_key.setdefault(portable_names.name_key(path.stem), []).append(path)
        entries = [self._entry(path, by_key[portable_names.name_key(path.stem)]) for path in files]
        warnings = [_shared_stem_warning(paths) for paths in by_key.values() if len(paths) > 1]
        warnings += [_windows_name_warning(path, problem) for path in files
                     if (problem := portable_names.windows_name_problem(path.name)) is not None]
        warnings += [_long_path_warning(entry) for entry in entries if platform_io.path_too_long(entry.mask_path)]
        self.entries, self.listing_warnings = entries, warnings

    def _entry(self, path: Path, same_name: list[Path]) -> ImageEntry:
        mask_path, xml_path = self.save_dir / f"{path.stem}.png", self.save_dir / f"{path.stem}.xml"
        blocked = None
        if len(same_name) > 1:
            others = ", ".join(p.name for p in same_name if p != path)
            if all(p.stem == path.stem for p in same_name):
                blocked = (
                    f"cannot save the mask of {path}: {others} has the same name, so both masks would be "
                    f"{mask_path}; rename one of the images"
                )
            else:
                blocked = (
                    f"cannot save the mask of {path}: {others} has the same name but for upper and lower case, "
                    f"and Windows and macOS keep one file for both masks; rename one of the images"
                )
        elif mask_path == path:
            blocked = (
                f"cannot save the mask of {path}: it would overwrite the image itself; "
                "choose a different save folder"
            )
        return ImageEntry(path, mask_path, xml_path, blocked)

    def index_of(self, path: str | os.PathLike) -> int:
        """Position of the entry for an image path; ``ValueError`` if it is not in the project."""
        target = Path(path).resolve()
        for index, entry in enumerate(self.entries):
            if entry.image_path == target:
                return index
        raise ValueError(f"{path} is not an image of {self.image_dir}")

    def is_labelled(self, entry: ImageEntry) -> bool:
        return entry.mask_blocked is None and not entry.mask_is_image and entry.mask_path.is_file()

    def labelled_entries(self) -> list[ImageEntry]:
        return [entry for entry in self.entries if self.is_labelled(entry)]

    def is_verified(self, entry: ImageEntry) -> bool:
        """The ``verified="yes"`` attribute of the XML, read from its first bytes, cached by mtime."""
        try:
            stat = entry.xml_path.stat()
        except OSError:
            return False
        key = (stat.st_mtime_ns, stat.st_size)
        cached = self._verified_cache.get(entry.xml_path)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            with open(entry.xml_path, "rb") as handle:
                head = handle.read(4096)
        except OSError:
            return False
        verified = _VERIFIED.search(head) is not None
        self._verified_cache[entry.xml_path] = (key, verified)
        return verified

    def load_image(self, entry: ImageEntry) -> np.ndarray:
        return images.load_image(entry.image_path)

    def load_mask(self, entry: ImageEntry) -> np.ndarray | None:
        """The saved mask, checked against the image size and classes; None when unlabelled."""
        if not self.is_labelled(entry):
            return None
        return masks.load_mask(entry.mask_path, images.image_size(entry.image_path), len(self.classes))

    def inspect_mask(self, entry: ImageEntry) -> tuple[np.ndarray | None, mask_repair.MaskDiagnosis | None]:
        """The saved mask (None when unlabelled) or, when it cannot be used as it is, a diagnosis
        with the repairs that apply (see ``core.mask_repair``); never raises for a bad mask."""
        if not self.is_labelled(entry):
            return None, None
        size = images.image_size(entry.image_path)
        return mask_repair.inspect_mask(entry.mask_path, size, len(self.classes), self.classes.colour_table())

    def save(self, entry: ImageEntry, label: np.ndarray, verified: bool = False) -> None:
        """Write the mask PNG and the VOC XML (and ``classes.txt`` if missing), each atomically."""
        self.check_writable()
        if entry.mask_blocked is not None:
            raise SaveError(entry.mask_blocked)
        if entry.mask_is_image:  # an entry made by hand, not by refresh
            raise SaveError(f"cannot save the mask of {entry.image_path}: it would overwrite the image itself")
        masks.check_mask(label, images.image_size(entry.image_path), len(self.classes), entry.mask_path)
        # The XML is built first: a name it cannot hold stops the save before the mask is written.
        xml = annotation_to_xml(annotation_from_mask(label, entry.image_path, self.classes, verified))
        self.save_dir.mkdir(parents=True, exist_ok=True)
        masks.write_mask(entry.mask_path, label, self.classes.colour_table())
        try:
            atomic_write_bytes(entry.xml_path, xml)
        except OSError as exc:
            raise SaveError(f"{entry.mask_path.name} was saved but {entry.xml_path.name} could not be written "
                            f"({exc.strerror or exc}): the XML is out of date") from exc
        if not self.class_path.exists():
            self.save_classes()

    def save_classes(self) -> None:
        """Write classes.txt and record it as the list the masks are written with."""
        self.check_writable()
        self.save_dir.mkdir(parents=True, exist_ok=True)
        save_class_file(self.class_path, self.classes)
        self.record_classes()


def _shared_stem_warning(paths: list[Path]) -> str:
    """Why images that share a stem get no mask, naming them, and why a PNG among them that may
    have been meant as the mask of the others (a mask of another size, other colours) was taken
    for a photo: their images then drop out of training and exports, which must not pass unsaid.
    Stems that differ only by case are one name on Windows and macOS (and on a USB stick or a share
    that ignores case), so they share the mask as well."""
    names = " and ".join(p.name for p in paths)
    if len({p.stem for p in paths}) > 1:
        masks = " and ".join(dict.fromkeys(f"{p.stem}.png" for p in paths))
        return (f"{names} have names that differ only by upper and lower case: Windows and macOS keep one "
                f"file for their masks {masks}, so no mask is saved for them until one is renamed")
    pngs = [p for p in paths if p.suffix.lower() == ".png"]
    photos = [p for p in paths if p.suffix.lower() != ".png"]
    if len(pngs) == 1 and photos:
        reason = images.mask_beside_problem(pngs[0], photos[0])
        return (f"{pngs[0].name} is not taken for the mask of {photos[0].name}: it is {reason}; both are "
                f"listed as photos and neither has a mask (training and exports leave them out) until the "
                f"mask is fixed or one file is renamed")
    return f"{names} share the mask {paths[0].stem}.png: no mask is saved for them until one is renamed"


def _windows_name_warning(path: Path, problem: str) -> str:
    return (f"{path.name}: {problem}; the project cannot be copied to Windows as it is (nor its mask "
            f"{path.stem}.png written there): rename the image")


def _long_path_warning(entry: ImageEntry) -> str:
    """The mask (and its XML, as long) would have a path Windows refuses (``platform_io.path_too_long``)."""
    return (f"{entry.image_path.name}: the path of its mask {entry.mask_path} is "
            f"{len(str(entry.mask_path))} characters long, and Windows refuses paths of "
            f"{platform_io.WINDOWS_MAX_PATH} or more unless long paths are enabled: choose a save folder "
            "with a shorter path, or enable long paths (see docs/platforms.md)")


def _reason(exc: Exception) -> str:
    """Why a write failed, without the path the caller names already (an OSError's strerror)."""
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)

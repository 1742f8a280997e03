"""A project: a folder of images, a save folder of masks and VOC XML, and the class list.

The layout is labelImg's: ``segstudio IMAGE_DIR [CLASS_FILE] [SAVE_DIR]``, the save folder defaulting
to the image folder. Each image ``<stem>.<ext>`` has its mask at ``SAVE_DIR/<stem>.png`` and its
boxes at ``SAVE_DIR/<stem>.xml``. The classes live in ``SAVE_DIR/classes.txt``; when that file does not
exist yet, the class file given (labelImg's ``predefined_classes.txt``) or the bundled default seeds
the list, and ``classes.txt`` is written with the first save.

Per-project settings that labelImg's files have no room for (class colours by name under
``"class_colours"``, the training dock's ``"active_model"``...) live in
``SAVE_DIR/.segstudio/project.json`` (:attr:`Project.settings`, :meth:`Project.save_settings`).
Opening a project also finishes a class rewrite that a crash interrupted (see ``core.journal``).

A ``.png`` in the image folder whose stem is also the stem of another image is a mask (saved beside
its photo, labelImg's default layout), not an image, if it looks like one (one 8-bit channel, its
image's size: see ``core.images.without_masks``); otherwise it is a second photo. A file is never
overwritten by a mask when it is not one: a ``.png`` image whose mask would be itself, and images
that share a stem (and so would share a mask file), cannot have a mask; saving raises
:class:`SaveError` saying what to rename or which save folder to choose
(:attr:`ImageEntry.mask_blocked`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import images, masks
from .atomic import atomic_write_text, remove_stale_temporaries
from .classes import ClassList, load_class_file, save_class_file
from .errors import SaveError, SegStudioError
from .journal import STATE_FOLDER, complete_journal
from .safe_read import SETTINGS_LIMIT, read_limited
from .voc_xml import annotation_from_mask, write_annotation

CLASS_FILE_NAME = "classes.txt"
SETTINGS_NAME = "project.json"
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


class Project:
    """Images, their masks and XML, and the classes, for one image folder and save folder."""

    def __init__(
        self,
        image_dir: str | os.PathLike,
        save_dir: str | os.PathLike | None = None,
        class_file: str | os.PathLike | None = None,
    ) -> None:
        self.image_dir = Path(image_dir).resolve()
        self.save_dir = Path(save_dir).resolve() if save_dir is not None else self.image_dir
        self.class_file = Path(class_file) if class_file is not None else None
        self.listing_warnings: list[str] = []
        self._verified_cache: dict[Path, tuple[tuple[int, int], bool]] = {}
        self.recovered_files = complete_journal(self.save_dir)
        self.removed_temporaries = self._remove_stale_temporaries()
        self.settings: dict = {}
        settings_warnings = self._load_settings()
        self.classes, self.class_warnings = self._load_classes()
        self.class_warnings += settings_warnings
        self.class_warnings += self.classes.apply_colour_map(self._colour_settings())
        self.entries: list[ImageEntry] = []
        self.refresh()

    def _remove_stale_temporaries(self) -> list[Path]:
        """Temporaries of saves a kill interrupted, in the save folder and the state folder."""
        removed = remove_stale_temporaries(self.save_dir)
        return removed + remove_stale_temporaries(self.save_dir / STATE_FOLDER)

    @property
    def class_path(self) -> Path:
        return self.save_dir / CLASS_FILE_NAME

    @property
    def settings_path(self) -> Path:
        return self.save_dir / STATE_FOLDER / SETTINGS_NAME

    def _load_settings(self) -> list[str]:
        """Read project.json into :attr:`settings`; a broken file is reported, not fatal."""
        if not os.path.lexists(self.settings_path):
            return []
        try:
            data = _read_settings(self.settings_path)
        except SegStudioError as exc:
            return [f"{exc}; ignored"]
        if not isinstance(data, dict):
            return [f"{self.settings_path} ignored: not a JSON object"]
        self.settings = data
        return []

    def _colour_settings(self) -> dict[str, str]:
        colours = self.settings.get("class_colours")
        return colours if isinstance(colours, dict) else {}

    def save_settings(self) -> None:
        """Write :attr:`settings` atomically, merged over the file on disk so that keys another part
        of the program wrote meanwhile (and keys this version does not know) are kept."""
        try:
            on_disk = _read_settings(self.settings_path)
        except SegStudioError:
            on_disk = {}
        merged = {**on_disk, **self.settings} if isinstance(on_disk, dict) else dict(self.settings)
        self.settings_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.settings_path, json.dumps(merged, indent=2, sort_keys=True) + "\n")
        self.settings = merged

    def save_class_colours(self) -> None:
        """Store the user's class colours (by name) in project.json."""
        self.settings["class_colours"] = self.classes.colour_map()
        self.save_settings()

    def _load_classes(self) -> tuple[ClassList, list[str]]:
        if os.path.lexists(self.class_path):  # a folder or a pipe there is reported, not skipped
            return load_class_file(self.class_path)
        if self.class_file is not None:
            return load_class_file(self.class_file)
        return ClassList.default(), []

    def refresh(self) -> None:
        """Re-list the image folder (natural order).

        Images that share a stem (``beach.jpg`` and ``beach.png``, a photo rather than a mask)
        would share one mask file, so none of them gets one: their masks cannot be saved, they
        count as unlabelled, and one listing warning says which files to rename.
        """
        # Masks beside their photos are no images to label, whichever save folder is chosen (the
        # same rule as predict and evaluate).
        files = images.without_masks(images.list_images(self.image_dir))
        by_stem: dict[str, list[Path]] = {}
        for path in files:
            by_stem.setdefault(path.stem, []).append(path)
        entries, warnings = [], []
        for path in files:
            entries.append(self._entry(path, by_stem[path.stem]))
        for stem, paths in by_stem.items():
            if len(paths) > 1:
                names = " and ".join(p.name for p in paths)
                warnings.append(
                    f"{names} share the mask {stem}.png: no mask is saved for them until one is renamed"
                )
        self.entries, self.listing_warnings = entries, warnings

    def _entry(self, path: Path, same_stem: list[Path]) -> ImageEntry:
        mask_path, xml_path = self.save_dir / f"{path.stem}.png", self.save_dir / f"{path.stem}.xml"
        blocked = None
        if len(same_stem) > 1:
            others = ", ".join(p.name for p in same_stem if p != path)
            blocked = (
                f"cannot save the mask of {path}: {others} has the same name, so both masks would be "
                f"{mask_path}; rename one of the images"
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

    def save(self, entry: ImageEntry, label: np.ndarray, verified: bool = False) -> None:
        """Write the mask PNG and the VOC XML (and ``classes.txt`` if missing), each atomically."""
        if entry.mask_blocked is not None:
            raise SaveError(entry.mask_blocked)
        if entry.mask_is_image:  # an entry made by hand, not by refresh
            raise SaveError(f"cannot save the mask of {entry.image_path}: it would overwrite the image itself")
        masks.check_mask(label, images.image_size(entry.image_path), len(self.classes), entry.mask_path)
        self.save_dir.mkdir(parents=True, exist_ok=True)
        masks.write_mask(entry.mask_path, label, self.classes.colour_table())
        write_annotation(entry.xml_path, annotation_from_mask(label, entry.image_path, self.classes, verified))
        if not self.class_path.exists():
            self.save_classes()

    def save_classes(self) -> None:
        self.save_dir.mkdir(parents=True, exist_ok=True)
        save_class_file(self.class_path, self.classes)


def _read_settings(path: Path) -> object:
    """project.json, parsed; SegStudioError when it is missing, unsafe or not JSON.

    It is the app's own state, so it is never read through a symbolic link.
    """
    data = read_limited(path, SETTINGS_LIMIT, SegStudioError, "project settings", follow_symlinks=False)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise SegStudioError(f"project settings {path} are not valid JSON ({exc})") from exc

"""Typed errors for user-facing problems.

Every error that bad input can cause derives from :class:`SegStudioError`, so the command line can
print one line (no traceback) and the GUI can show a message box, while programming errors still
surface as ordinary exceptions.
"""

from __future__ import annotations


class SegStudioError(Exception):
    """Base class of errors caused by the user's files or settings, with a readable message."""


class ImageLoadError(SegStudioError):
    """An image file is missing, unreadable, corrupt, or too large to decode safely."""


class MaskError(SegStudioError):
    """A mask file is unreadable, has the wrong size, or holds values that are not classes."""


class ClassFileError(SegStudioError):
    """A class file cannot be read or its contents are unusable."""


class AnnotationFormatError(SegStudioError):
    """A VOC XML or labelme JSON file is broken or unsafe."""


class SaveError(SegStudioError):
    """Writing a file failed (read-only folder, disk full...); the previous file is intact."""


class CheckpointError(SegStudioError):
    """A model file is not a checkpoint we can load, or its shapes do not fit."""


class TrainingError(SegStudioError):
    """Training cannot start or had to stop (no labelled images, out of memory...)."""


class OptionError(SegStudioError):
    """A command-line option or setting has an unusable value (zero tile, missing GPU...)."""


class ExportError(SegStudioError):
    """An export could not be written or does not reproduce the model (ONNX check failed)."""

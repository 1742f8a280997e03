"""Every name segstudio takes from huggingface_hub below its top-level public API, in one place.

The hub layer streams downloads itself (resumable, checked, cancellable every 256 KiB; see
:mod:`.hub`), so it needs a few pieces huggingface_hub keeps in its submodules: the cache folder
name of a repository, the file lock its own downloads take, the configured HTTP session with the
user's headers and token, its error mapping, and its repo-id rule. Importing them here, and only
here, means a release that moves one breaks this module alone: ``tests/model/test_hub_internals.py``
fails loudly naming it, and pyproject bounds the dependency below the next major version. At run
time the same breakage is one :class:`CheckpointError` line naming the version, not a traceback.

The top-level names (``hf_hub_url``, ``get_hf_file_metadata``, ``try_to_load_from_cache``,
``constants``, ``errors``) are huggingface_hub's documented API and are imported where they are used.
"""

from __future__ import annotations

from segstudio.core.errors import CheckpointError

SUPPORTED = "huggingface_hub 1.x or 2.x"

try:
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.file_download import repo_folder_name
    from huggingface_hub.utils import (
        WeakFileLock,
        build_hf_headers,
        get_session,
        hf_raise_for_status,
        validate_repo_id,
    )
except ImportError as exc:  # a release that moved one of them
    import huggingface_hub

    raise CheckpointError(f"huggingface_hub {huggingface_hub.__version__} moved a name segstudio uses "
                          f"({exc}); install {SUPPORTED} (pip install 'huggingface_hub<3')") from exc

__all__ = ["HFValidationError", "WeakFileLock", "build_hf_headers", "get_session", "hf_raise_for_status",
           "repo_folder_name", "validate_repo_id"]

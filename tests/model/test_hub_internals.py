"""huggingface_hub's names below its public API are used from one module only, and still exist.

When a huggingface_hub release moves one of them this test fails naming it: then update
segstudio/model/weights/hub_internals.py (and the upper bound in pyproject.toml) together.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import huggingface_hub

from segstudio.model.weights import hub_internals

REPO = Path(__file__).resolve().parents[2]
PUBLIC = {"huggingface_hub", "huggingface_hub.constants", "huggingface_hub.errors"}


def test_hub_internals_every_private_name_still_exists_where_we_import_it() -> None:
    for name in hub_internals.__all__:
        assert callable(getattr(hub_internals, name)), (
            f"huggingface_hub {huggingface_hub.__version__} no longer offers {name} where "
            "hub_internals.py imports it")
    assert hub_internals.repo_folder_name(repo_id="a/b", repo_type="model") == "models--a--b"
    hub_internals.validate_repo_id("owner/name")


def test_hub_internals_the_installed_version_is_inside_the_bound_pyproject_declares() -> None:
    bound = re.search(r'"huggingface_hub>=([0-9.]+),<([0-9]+)"', (REPO / "pyproject.toml").read_text())
    assert bound, "pyproject.toml must bound huggingface_hub above (private names are used)"
    major = int(huggingface_hub.__version__.split(".")[0])
    assert int(bound.group(1).split(".")[0]) <= major < int(bound.group(2))


def test_hub_internals_no_other_module_imports_huggingface_hub_internals() -> None:
    """Every ``from huggingface_hub.X import`` outside hub_internals.py is of a public module."""
    offenders = []
    for path in (REPO / "segstudio").rglob("*.py"):
        if path.name == "hub_internals.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([node.module] if isinstance(node, ast.ImportFrom) and node.module else
                     [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            offenders += [f"{path.relative_to(REPO)}: {n}" for n in names
                          if n.startswith("huggingface_hub") and n not in PUBLIC]
    assert offenders == []

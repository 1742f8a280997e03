"""Hostile files handed to the core readers: special files, oversized files, bombs, deep nesting.

Each reader must answer with one clear SegStudioError naming the file, quickly, without touching
any user file; a batch (folder import) goes on with the rest.
"""

from __future__ import annotations

import base64
import builtins
import io
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

sys.path.insert(0, str(Path(__file__).parent))
from core_hostile import call_with_timeout, checksums, png_bytes, png_claiming  # noqa: E402

from segstudio.cli.main import main as cli_main  # noqa: E402
from segstudio.core import images, labelme, safe_read  # noqa: E402
from segstudio.core.classes import ClassList, load_class_file  # noqa: E402
from segstudio.core.errors import (  # noqa: E402
    AnnotationFormatError,
    ClassFileError,
    ImageLoadError,
    SegStudioError,
)
from segstudio.core.project import Project  # noqa: E402
from segstudio.core.voc_xml import read_annotation  # noqa: E402

posix_only = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="FIFOs are POSIX")

READERS = {
    "class file": (lambda p: load_class_file(p), ClassFileError),
    "labelme": (lambda p: labelme.read_labelme(p), AnnotationFormatError),
    "voc xml": (lambda p: read_annotation(p), AnnotationFormatError),
    "image": (lambda p: images.load_image(p), ImageLoadError),
    "image size": (lambda p: images.image_size(p), ImageLoadError),
}


def _assert_refused(reader: str, path: Path, fifo: Path | None = None, fragment: str = "") -> str:
    read, error = READERS[reader]
    kind, value = call_with_timeout(lambda: read(path), fifo=fifo)
    assert kind == "error", f"{reader} accepted {path}"
    assert isinstance(value, error), f"{reader}: {type(value).__name__}: {value}"
    message = str(value)
    assert str(path) in message and "\n" not in message and fragment in message
    return message


@posix_only
@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_fifo_is_refused_without_blocking(tmp_path, reader) -> None:
    fifo = tmp_path / {"class file": "classes.txt", "labelme": "a.json", "voc xml": "a.xml"}.get(reader, "a.jpg")
    os.mkfifo(fifo)
    _assert_refused(reader, fifo, fifo=fifo, fragment="pipe")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("reader", sorted(READERS))
def test_dev_zero_is_refused(reader) -> None:
    _assert_refused(reader, Path("/dev/zero"), fragment="device")


@pytest.mark.parametrize("reader", sorted(READERS))
def test_a_folder_is_refused(tmp_path, reader) -> None:
    folder = tmp_path / "looks_like.json"
    folder.mkdir()
    _assert_refused(reader, folder, fragment="folder")


@pytest.mark.parametrize(
    "reader, name, limit",
    [("class file", "classes.txt", safe_read.CLASS_FILE_LIMIT), ("voc xml", "a.xml", safe_read.XML_LIMIT),
     ("labelme", "a.json", safe_read.LABELME_JSON_LIMIT)],
)
def test_a_file_over_its_limit_is_refused_before_it_is_read(tmp_path, reader, name, limit, monkeypatch) -> None:
    path = tmp_path / name
    with open(path, "wb") as handle:  # sparse: costs no disk, and no memory if it is not read
        handle.truncate(limit + 1)
    opened: list[str] = []  # never opened at all: refused on its size alone

    def spy(real):
        return lambda file, *args, **kwargs: (opened.append(str(file)), real(file, *args, **kwargs))[1]

    for module in (os, io, builtins):
        monkeypatch.setattr(module, "open", spy(module.open))
    _assert_refused(reader, path, fragment="too large")
    monkeypatch.undo()
    assert str(path) not in opened


def test_read_limited_stops_at_the_limit_even_if_the_size_lied(tmp_path, monkeypatch) -> None:
    """A file growing between stat and read is cut off at the limit, not read to its end."""
    path = tmp_path / "classes.txt"
    path.write_bytes(b"a\n" * 1000)
    real_stat = os.stat

    def shrunk(p, *args, **kwargs):
        result = real_stat(p, *args, **kwargs)
        return os.stat_result((result.st_mode, *result[1:6], 10, *result[7:])) if Path(p) == path else result

    monkeypatch.setattr(safe_read.os, "stat", shrunk)
    with pytest.raises(ClassFileError, match="too large"):
        safe_read.read_limited(path, 100, ClassFileError, "class file")


def test_a_symbolic_link_is_refused_where_links_are_not_followed(tmp_path) -> None:
    target = tmp_path / "real.json"
    target.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    assert safe_read.read_limited(link, 100, SegStudioError) == b"{}"
    with pytest.raises(SegStudioError, match="symbolic link"):
        safe_read.read_limited(link, 100, SegStudioError, follow_symlinks=False)


# ------------------------------------------------------------------------------------ labelme


def _write_json(path: Path, data) -> Path:
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _hostile_labelme(folder: Path) -> dict[str, str]:
    """One labelme file per hostile case: name → a fragment its error message must contain."""
    deep = "[" * 100_000 + "]" * 100_000
    _write_json(folder / "deep.json", '{"shapes": [], "x": ' + deep + "}")
    _write_json(folder / "huge_size.json", {"shapes": [], "imageWidth": 10**9, "imageHeight": 10**9})
    _write_json(folder / "negative.json", {"shapes": [], "imageWidth": -5, "imageHeight": 4})
    _write_json(folder / "zero.json", {"shapes": [], "imageWidth": 0, "imageHeight": 0})
    _write_json(folder / "infinite.json", '{"shapes": [], "imageWidth": Infinity, "imageHeight": 4}')
    _write_json(folder / "bomb_data.json", {"shapes": [], "imageData": _b64(png_claiming(60_000, 60_000))})
    _write_json(folder / "bomb_data_small.json", {"shapes": [], "imageData": _b64(png_claiming(15_000, 15_000))})
    mask_bomb = {"label": "a", "shape_type": "mask", "points": [[0, 0], [3, 3]],
                 "mask": _b64(png_claiming(50_000, 50_000))}
    _write_json(folder / "mask_bomb.json", {"shapes": [mask_bomb], "imageWidth": 4, "imageHeight": 4})
    big_patch = {"label": "a", "shape_type": "mask", "points": [[0, 0], [3, 3]],
                 "mask": _b64(png_bytes(Image.new("L", (400, 400), 1)))}
    _write_json(folder / "big_patch.json", {"shapes": [big_patch], "imageWidth": 4, "imageHeight": 4})
    far_circle = {"label": "a", "shape_type": "circle", "points": [[1, 1], [1e300, 1e300]]}
    _write_json(folder / "far_circle.json", {"shapes": [far_circle], "imageWidth": 4, "imageHeight": 4})
    slow_circle = {"label": "a", "shape_type": "circle", "points": [[1, 1], [1e9, 1]]}
    _write_json(folder / "slow_circle.json", {"shapes": [slow_circle], "imageWidth": 4, "imageHeight": 4})
    return {
        "deep.json": "nested too deeply", "huge_size.json": "too large", "negative.json": "not valid",
        "zero.json": "not valid", "infinite.json": "imageWidth", "bomb_data.json": "too large",
        "bomb_data_small.json": "too large", "mask_bomb.json": "too large", "big_patch.json": "larger than",
        "far_circle.json": "too far outside", "slow_circle.json": "too far outside",
    }


def test_hostile_labelme_files_give_one_clear_error_each(tmp_path) -> None:
    cases = _hostile_labelme(tmp_path)
    for name, fragment in cases.items():
        path = tmp_path / name
        # each fragment names the check that refused the file before the costly work; a hang fails
        # call_with_timeout
        kind, value = call_with_timeout(lambda path=path: labelme.import_labelme_file(path, ClassList()))
        assert kind == "error" and isinstance(value, AnnotationFormatError), (name, value)
        assert str(path) in str(value) and fragment in str(value), (name, str(value))


@posix_only
def test_import_labelme_command_skips_hostile_files_and_imports_the_rest(tmp_path, capsys) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    cases = _hostile_labelme(src)
    os.mkfifo(src / "pipe.json")
    (src / "folder.json").mkdir()
    Image.new("RGB", (5, 4), (9, 9, 9)).save(src / "good.png")
    square = {"label": "cat", "shape_type": "rectangle", "points": [[0, 0], [2, 2]]}
    _write_json(src / "good.json", {"shapes": [square], "imagePath": "good.png", "imageWidth": 5, "imageHeight": 4})
    before = checksums(src)
    kind, status = call_with_timeout(lambda: cli_main(["import-labelme", str(src), str(out)]), fifo=src / "pipe.json")
    assert kind == "ok" and status == 1, status
    err = capsys.readouterr().err
    for name in [*cases, "pipe.json", "folder.json"]:
        assert name in err, name
    assert "Traceback" not in err
    assert checksums(src) == before
    assert sorted(p.name for p in out.iterdir()) == ["classes.txt", "good.png", "good.xml"]


# ------------------------------------------------------------------------------------- images


def _text_chunk_png(path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("comment", "x" * (4 * 1024 * 1024), zip=True)  # inflates past Pillow's text limit
    Image.new("RGB", (4, 4)).save(path, pnginfo=info)


@pytest.mark.parametrize("reader", ["image", "image size"])
def test_png_with_oversized_text_chunk_is_a_clear_image_error(tmp_path, reader) -> None:
    path = tmp_path / "chunky.png"
    _text_chunk_png(path)
    _assert_refused(reader, path)


@pytest.mark.parametrize("name", ["bomb.png", "bomb.jpg", "bomb.jpeg"])
@pytest.mark.parametrize("claim", [(15_000, 15_000), (100_000, 100_000)])
def test_decompression_bombs_are_refused_whatever_the_extension(tmp_path, name, claim) -> None:
    path = tmp_path / name
    path.write_bytes(png_claiming(*claim) + b"\xff\xd9")  # the JPEG end marker OpenCV's path looks for
    _assert_refused("image", path, fragment="too large")


def test_a_non_jpeg_named_jpg_never_reaches_opencv(tmp_path, monkeypatch) -> None:
    """OpenCV decodes whatever it recognises; only what Pillow's header check saw as JPEG goes there."""
    path = tmp_path / "photo.jpg"
    path.write_bytes(png_bytes(Image.new("RGB", (6, 4), (1, 2, 3))) + b"\xff\xd9")
    calls = []
    real = images.cv2.imdecode
    monkeypatch.setattr(images.cv2, "imdecode", lambda *a: calls.append(a) or real(*a))
    assert images.load_image(path).shape == (4, 6, 3)
    assert calls == []


def test_command_line_reports_a_bomb_image_in_one_line(tmp_path, capsys) -> None:
    """evaluate GT PRED: a bomb mask image is one error line and status 1, not a traceback."""
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir()
    pred.mkdir()
    (tmp_path / "classes.txt").write_text("background\ncat\n")
    (gt / "a.png").write_bytes(png_claiming(100_000, 100_000, "P"))
    (pred / "a.png").write_bytes(png_claiming(100_000, 100_000, "P"))
    before = checksums(tmp_path)
    status = cli_main(["evaluate", str(gt), str(pred), "--classes", str(tmp_path / "classes.txt")])
    err = capsys.readouterr().err
    assert status == 1 and "Traceback" not in err and len(err.strip().splitlines()) >= 1
    assert checksums(tmp_path) == before


# ------------------------------------------------------------------------------ project opening


@posix_only
def test_project_opens_with_hostile_state_files(tmp_path) -> None:
    """A FIFO classes.txt is one clear error; a FIFO or too-deep project.json is a warning."""
    Image.new("RGB", (4, 3)).save(tmp_path / "a.jpg")
    state = tmp_path / ".segstudio"
    state.mkdir()
    _write_json(state / "project.json", '{"class_colours": ' + "[" * 100_000 + "]" * 100_000 + "}")
    project = Project(tmp_path)
    assert project.settings == {} and any("project.json" in w for w in project.class_warnings)
    (state / "project.json").unlink()
    os.mkfifo(state / "project.json")
    kind, project = call_with_timeout(lambda: Project(tmp_path), fifo=state / "project.json")
    assert kind == "ok" and any("pipe" in w for w in project.class_warnings)
    os.mkfifo(tmp_path / "classes.txt")
    kind, error = call_with_timeout(lambda: Project(tmp_path), fifo=tmp_path / "classes.txt")
    assert kind == "error" and isinstance(error, ClassFileError) and "pipe" in str(error)


def test_project_json_is_not_read_through_a_symbolic_link(tmp_path) -> None:
    Image.new("RGB", (4, 3)).save(tmp_path / "a.jpg")
    outside = tmp_path / "elsewhere.json"
    outside.write_text(json.dumps({"class_colours": {"background": "#010203"}}))
    (tmp_path / ".segstudio").mkdir()
    (tmp_path / ".segstudio" / "project.json").symlink_to(outside)
    project = Project(tmp_path)
    assert project.settings == {} and any("symbolic link" in w for w in project.class_warnings)


# ------------------------------------------------------------------------ stale temporaries


def _age(path: Path, seconds: float = 3600) -> None:
    old = time.time() - seconds
    os.utime(path, (old, old), follow_symlinks=False)


def test_opening_a_project_removes_only_our_stale_temporaries(tmp_path) -> None:
    """Leftovers of a kill go; user files, fresh temporaries, links and folders stay."""
    images_dir, outside = tmp_path / "project", tmp_path / "outside"
    images_dir.mkdir()
    outside.mkdir()
    Image.new("RGB", (4, 3)).save(images_dir / "a.jpg")
    state = images_dir / ".segstudio"
    state.mkdir()
    stale = [images_dir / ".a.png.k2x_9qz0.tmp", images_dir / ".a.xml.abcdefgh.remap",
             state / ".project.json.zz_01234.tmp"]
    kept = [images_dir / ".notes.tmp", images_dir / "a.png.abcdefgh.tmp", images_dir / ".a.png.ABCDEFGH.tmp",
            images_dir / ".a.png.abcdefg.tmp", images_dir / ".a.png.abcdefgh.tmp.bak",
            images_dir / ".fresh.png.abcdefgh.tmp", outside / ".a.png.abcdefgh.tmp"]
    for path in stale + kept:
        path.write_bytes(b"half a file")
        if path.name != ".fresh.png.abcdefgh.tmp":
            _age(path)
    victim = outside / "precious.png"
    victim.write_bytes(b"user data")
    link = images_dir / ".b.png.abcdefgh.tmp"
    link.symlink_to(victim)
    _age(link)
    folder = images_dir / ".c.png.abcdefgh.tmp"
    folder.mkdir()
    (images_dir / "sub").mkdir()
    deeper = images_dir / "sub" / ".d.png.abcdefgh.tmp"
    deeper.write_bytes(b"x")
    _age(deeper)
    before = checksums(outside)
    project = Project(images_dir)
    assert sorted(project.removed_temporaries) == sorted(stale)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept) and link.is_symlink() and folder.is_dir() and deeper.exists()
    assert checksums(outside) == before


def test_a_save_folder_that_is_a_link_is_not_cleaned_through_it(tmp_path) -> None:
    from segstudio.core.atomic import remove_stale_temporaries

    real = tmp_path / "real"
    real.mkdir()
    temp = real / ".a.png.abcdefgh.tmp"
    temp.write_bytes(b"x")
    _age(temp)
    (tmp_path / "link").symlink_to(real)
    assert remove_stale_temporaries(tmp_path / "link") == [] and temp.exists()
    assert remove_stale_temporaries(real) == [temp] and not temp.exists()


def test_a_killed_save_leaves_a_temporary_that_the_next_open_removes(tmp_path) -> None:
    """A real atomic save killed mid-write (the process exits before the rename)."""
    import subprocess

    Image.new("RGB", (4, 3)).save(tmp_path / "a.jpg")
    script = (
        "import os, sys\n"
        "from segstudio.core.atomic import atomic_open\n"
        "with atomic_open(sys.argv[1]) as handle:\n"
        "    handle.write(b'half')\n"
        "    handle.flush()\n"
        "    os._exit(9)\n"
    )
    path = os.pathsep.join([str(Path(__file__).parents[2]), os.environ.get("PYTHONPATH", "")])
    env = {**os.environ, "PYTHONPATH": path}
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path / "a.png")], env=env, timeout=60)
    assert result.returncode == 9
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".a.png.")]
    assert len(leftovers) == 1 and not (tmp_path / "a.png").exists()
    Project(tmp_path)
    assert leftovers[0].exists()  # too recent: may belong to a save in progress elsewhere
    _age(leftovers[0])
    assert Project(tmp_path).removed_temporaries == leftovers and not leftovers[0].exists()
    assert np.asarray(Image.open(tmp_path / "a.jpg")).shape == (3, 4, 3)

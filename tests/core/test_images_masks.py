"""Image loading, palette PNG masks and atomic saves (segstudio.core.images / masks / atomic)."""

from __future__ import annotations

import errno
import os
import stat

import numpy as np
import pytest
from PIL import Image

from segstudio.core import atomic, images, platform_io
from segstudio.core.errors import ImageLoadError, MaskError, SaveError
from segstudio.core.images import image_size, list_images, load_image
from segstudio.core.masks import encode_mask_png, load_mask, read_mask, write_mask
from segstudio.core.palette import voc_palette


# --- images ---------------------------------------------------------------------------------------
def test_exif_orientation_6_is_applied(tmp_path) -> None:
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:10] = (255, 0, 0)  # top half red
    stored[10:] = (0, 0, 255)  # bottom half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "photo.jpg"
    Image.fromarray(stored).save(path, quality=95, exif=exif.tobytes())
    assert image_size(path) == (20, 40)
    shown = load_image(path)
    assert shown.shape == (40, 20, 3) and shown.dtype == np.uint8
    # clockwise: the stored top ends on the right
    assert shown[:, 15, 0].min() > 200 and shown[:, 15, 2].max() < 60
    assert shown[:, 4, 2].min() > 200 and shown[:, 4, 0].max() < 60


@pytest.mark.parametrize("mode", ["L", "RGBA", "P", "I;16", "LA", "1"])
def test_any_mode_becomes_rgb8(tmp_path, mode: str) -> None:
    gradient = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (8, 1))
    if mode == "I;16":
        source = Image.fromarray(gradient.astype(np.uint16) * 200)
    elif mode == "RGBA":
        source = Image.fromarray(np.dstack([gradient] * 3 + [np.zeros_like(gradient)]), "RGBA")
    else:
        source = Image.fromarray(gradient, "L").convert(mode)
    path = tmp_path / f"img_{mode.replace(';', '')}.png"
    source.save(path)
    rgb = load_image(path)
    assert rgb.shape == (8, 64, 3) and rgb.dtype == np.uint8
    if mode in ("L", "RGBA", "LA", "I;16"):
        assert rgb[0, 0, 0] == 0 and rgb[0, -1, 0] >= 250  # 16-bit is stretched to full range
        assert (np.diff(rgb[0, :, 0].astype(int)) >= 0).all()
    if mode == "P":
        expected = np.asarray(source.convert("RGB"))
        np.testing.assert_array_equal(rgb, expected)


def test_corrupt_and_truncated_images_name_the_file(tmp_path) -> None:
    corrupt = tmp_path / "corrupt.png"
    corrupt.write_bytes(b"this is not a png at all" * 10)
    with pytest.raises(ImageLoadError, match="corrupt.png"):
        load_image(corrupt)
    good = tmp_path / "good.jpg"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)).save(good, quality=90)
    data = good.read_bytes()
    for name, cut in (("cut.jpg", data[: len(data) // 2]), ("cut.png", None)):
        path = tmp_path / name
        if cut is None:
            png = tmp_path / "full.png"
            Image.fromarray(rng.integers(0, 256, (200, 200, 3), dtype=np.uint8)).save(png)
            cut = png.read_bytes()[: png.stat().st_size // 2]
        path.write_bytes(cut)
        with pytest.raises(ImageLoadError, match=name):
            load_image(path)
    with pytest.raises(ImageLoadError, match="missing.png"):
        load_image(tmp_path / "missing.png")


def test_decompression_bomb_is_refused_clearly(tmp_path, monkeypatch) -> None:
    path = tmp_path / "bomb.png"
    Image.new("L", (300, 200)).save(path)
    monkeypatch.setattr(images, "MAX_PIXELS", 50_000)
    with pytest.raises(ImageLoadError, match=r"too large.*bomb.png"):
        load_image(path)
    with pytest.raises(ImageLoadError, match="bomb.png"):
        image_size(path)


def test_images_between_pillow_default_and_our_limit_open(tmp_path) -> None:
    # 120 MP: above Pillow's 89 MP default, below MAX_PIXELS. Only the header is read.
    path = tmp_path / "aerial.png"
    Image.new("1", (12000, 10000)).save(path)
    assert image_size(path) == (12000, 10000)


def test_list_images_natural_order(tmp_path) -> None:
    for name in ("img10.png", "img2.JPG", "img1.png", ".hidden.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in list_images(tmp_path)] == ["img1.png", "img2.JPG", "img10.png"]
    with pytest.raises(ImageLoadError):
        list_images(tmp_path / "nope")


# --- masks ----------------------------------------------------------------------------------------
def _label() -> np.ndarray:
    label = np.zeros((30, 40), np.uint8)
    label[5:20, 5:25] = 1
    label[10:28, 22:38] = 15
    label[0, :] = 255
    return label


def test_palette_png_round_trip_with_voc_colours(tmp_path) -> None:
    path = tmp_path / "m.png"
    label = _label()
    write_mask(path, label)
    with Image.open(path) as image:
        assert image.mode == "P"
        palette = np.array(image.getpalette()[: 256 * 3], np.uint8).reshape(-1, 3)
    np.testing.assert_array_equal(palette, voc_palette())
    np.testing.assert_array_equal(read_mask(path), label)


def test_custom_colours_keep_the_values(tmp_path) -> None:
    path = tmp_path / "m.png"
    write_mask(path, _label(), colours=np.array([(0, 0, 0), (1, 2, 3)], np.uint8))
    with Image.open(path) as image:
        assert image.getpalette()[3:6] == [1, 2, 3]
    np.testing.assert_array_equal(read_mask(path), _label())
    assert encode_mask_png(_label())[:8] == b"\x89PNG\r\n\x1a\n"


def test_read_grayscale_and_16_bit_index_pngs(tmp_path) -> None:
    gray = tmp_path / "gray.png"
    Image.fromarray(_label(), "L").save(gray)
    np.testing.assert_array_equal(read_mask(gray), _label())
    wide = tmp_path / "wide.png"
    Image.fromarray(_label().astype(np.uint16)).save(wide)
    np.testing.assert_array_equal(read_mask(wide), _label())
    bad = _label().astype(np.uint16)
    bad[3, 3] = 300
    Image.fromarray(bad).save(wide)
    with pytest.raises(MaskError, match="wide.png"):
        read_mask(wide)


def test_read_rgb_voc_coloured_png(tmp_path) -> None:
    path = tmp_path / "rgb.png"
    Image.fromarray(voc_palette()[_label()]).save(path)
    np.testing.assert_array_equal(read_mask(path), _label())
    rgb = voc_palette()[_label()].copy()
    rgb[2, 2] = (1, 2, 3)
    Image.fromarray(rgb).save(path)
    with pytest.raises(MaskError, match=r"rgb.png.*#010203"):
        read_mask(path)


def test_wrong_size_and_unknown_values_name_file_and_values(tmp_path) -> None:
    path = tmp_path / "m.png"
    write_mask(path, _label())
    assert load_mask(path, image_size=(40, 30), num_classes=16).shape == (30, 40)
    with pytest.raises(MaskError, match=r"m.png.*40×30.*41×30"):
        load_mask(path, image_size=(41, 30))
    with pytest.raises(MaskError, match=r"m.png.*15") as info:
        load_mask(path, num_classes=3)
    assert "255" not in str(info.value)  # ignore is always allowed


def test_missing_and_corrupt_masks(tmp_path) -> None:
    with pytest.raises(MaskError, match="none.png"):
        read_mask(tmp_path / "none.png")
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    with pytest.raises(MaskError, match="broken.png"):
        read_mask(broken)


# --- atomic saves ---------------------------------------------------------------------------------
def _temp_files(folder) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.endswith(".tmp")]


def test_read_only_folder_gives_save_error_and_keeps_old_file(tmp_path, monkeypatch) -> None:
    path = tmp_path / "m.png"
    write_mask(path, _label())
    old = path.read_bytes()
    os.chmod(tmp_path, 0o555)
    try:
        if os.access(tmp_path, os.W_OK):  # root ignores permissions: simulate the refusal
            def refuse(*args, **kwargs):
                raise PermissionError(errno.EACCES, "Permission denied")

            monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
        with pytest.raises(SaveError, match=str(tmp_path)):
            write_mask(path, np.zeros((30, 40), np.uint8))
    finally:
        os.chmod(tmp_path, 0o755)
    assert path.read_bytes() == old
    assert _temp_files(tmp_path) == []


class _FullDisk:
    """A file object whose writes fail like a full disk."""

    def __init__(self, handle) -> None:
        self._handle = handle

    def write(self, data) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name):
        return getattr(self._handle, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._handle.close()


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_full_disk_keeps_old_file_and_leaves_no_temp(tmp_path, monkeypatch, where: str) -> None:
    path = tmp_path / "m.png"
    write_mask(path, _label())
    old = path.read_bytes()

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if where == "fsync":
        monkeypatch.setattr(atomic.os, "fsync", no_space)
    else:
        real_fdopen = os.fdopen
        monkeypatch.setattr(atomic.os, "fdopen", lambda *a, **k: _FullDisk(real_fdopen(*a, **k)))
    with pytest.raises(SaveError, match=r"m.png.*No space"):
        write_mask(path, np.zeros((30, 40), np.uint8))
    assert path.read_bytes() == old
    assert _temp_files(tmp_path) == []


def test_saved_files_get_normal_permissions(tmp_path) -> None:
    if os.name != "posix":
        pytest.skip("POSIX permissions only")
    new = tmp_path / "new.png"
    write_mask(new, _label())
    assert stat.S_IMODE(new.stat().st_mode) == 0o666 & ~platform_io.umask()
    os.chmod(new, 0o640)
    write_mask(new, _label())  # replacing keeps the old file's mode
    assert stat.S_IMODE(new.stat().st_mode) == 0o640


def test_text_write_and_failure_inside_block(tmp_path) -> None:
    path = tmp_path / "a.txt"
    atomic.atomic_write_text(path, "héllo")
    assert path.read_text(encoding="utf-8") == "héllo"
    with pytest.raises(RuntimeError):
        with atomic.atomic_open(path) as handle:
            handle.write(b"partial")
            raise RuntimeError("crash while writing")
    assert path.read_text(encoding="utf-8") == "héllo"
    assert _temp_files(tmp_path) == []


def test_without_masks_drops_pngs_that_are_masks_of_other_photos(tmp_path) -> None:
    """A same-stem PNG is a mask only if it looks like one (one 8-bit channel, the photo's size)."""
    from segstudio.core.images import without_masks

    for name in ("a.jpg", "b.png", "c.tif", "d.jpg"):
        Image.new("RGB", (8, 6)).save(tmp_path / name)
    write_mask(tmp_path / "a.png", np.zeros((6, 8), np.uint8))
    Image.new("L", (8, 6)).save(tmp_path / "c.png")  # a grayscale index mask
    noise = np.random.default_rng(0).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "d.png")  # a second photo, not a mask
    files = [tmp_path / n for n in ("a.jpg", "a.png", "b.png", "c.tif", "c.png", "d.jpg", "d.png")]
    assert [p.name for p in without_masks(files)] == ["a.jpg", "b.png", "c.tif", "d.jpg", "d.png"]


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_jpeg_decoded_by_opencv_matches_pillow(tmp_path, orientation) -> None:
    """JPEGs go through OpenCV (no GIL held); same orientation and pixels within JPEG rounding."""
    from segstudio.core import images

    rng = np.random.default_rng(orientation)
    small = rng.integers(0, 255, (6, 9, 3), dtype=np.uint8)
    picture = Image.fromarray(small).resize((90, 60), Image.BILINEAR)
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "photo.jpg"
    picture.save(path, quality=95, exif=exif)
    assert images._load_jpeg_with_opencv(path) is not None  # the OpenCV path was taken
    got = load_image(path)
    expected = images._load_with_pillow(path)
    assert got.shape == expected.shape and got.flags.c_contiguous
    assert np.abs(got.astype(int) - expected).max() <= 3


def test_label_counts_equals_bincount_across_bands() -> None:
    """The histogram is counted in bands (float32 is exact only to 2**24): totals stay exact."""
    from segstudio.core import masks

    rng = np.random.default_rng(3)
    label = rng.integers(0, 256, (300, 200), dtype=np.uint8)
    expected = np.bincount(label.reshape(-1), minlength=256)
    assert (masks.label_counts(label) == expected).all()
    small_bands = masks._EXACT_PIXELS
    try:
        masks._EXACT_PIXELS = 1000  # forces 5-row bands
        assert (masks.label_counts(label) == expected).all()
    finally:
        masks._EXACT_PIXELS = small_bands

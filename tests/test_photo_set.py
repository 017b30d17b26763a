"""scripts/build_photo_set.py: factors, crops, licences and a deterministic build
of a tiny fake wallpaper package (nothing is downloaded)."""
import hashlib
import importlib.util
import io
import json
import os

import numpy as np
import pytest
from PIL import Image

from conftest import smooth_image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_spec = importlib.util.spec_from_file_location(
    "build_photo_set", os.path.join(ROOT, "scripts", "build_photo_set.py"))
bps = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bps)

COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: fake-wallpapers

Files: *
Copyright: 2020 Someone
License: GPL-2+

Files: nature/Lake.jpg
       nature/Lake_*.jpg
Copyright: 2021 A Photographer <a@example.org>
License: CC-BY-SA-4.0
Comment: a photo.

Files: art/Secret.png
Copyright: 2021 Nobody
License: proprietary

Files: debian/*
Copyright: 2022 Packager
License: GPL-2+

License: GPL-2+
 Long text.
"""


def test_choose_factor_is_the_smallest_keeping_at_most_2_5_megapixels():
  assert bps.choose_factor(2560, 1600) == 2      # 1280x800
  assert bps.choose_factor(3840, 2160) == 2      # 1920x1080, 2.07 MP
  assert bps.choose_factor(5120, 2880) == 3      # 1706x960
  assert bps.choose_factor(5640, 3172) == 3
  assert bps.choose_factor(1920, 1200) == 2      # never below 2
  with pytest.raises(ValueError):
    bps.choose_factor(1000, 1000)                # 500 < 512 on the short side


def test_check_factor_rejects_non_integers_small_factors_and_small_results():
  bps.check_factor(1680, 1050, 2)
  for k in (1, 0, 2.5):
    with pytest.raises(ValueError):
      bps.check_factor(2560, 1600, k)
  with pytest.raises(ValueError):
    bps.check_factor(2560, 1600, 4)              # 640x400


@pytest.mark.parametrize("size, box", [
    ((1280, 800), (0, 16, 1280, 784)),
    ((960, 600), (0, 12, 960, 588)),
    ((840, 525), (4, 6, 836, 518)),
    ((1706, 960), (213, 96, 1493, 864)),
    ((800, 1280), (16, 0, 784, 1280)),           # portrait: 768 x 1280 at most
])
def test_eval_crop_is_centred_with_sides_multiples_of_64(size, box):
  got = bps.eval_crop_box(*size)
  assert got == box
  width, height = got[2] - got[0], got[3] - got[1]
  assert width % 64 == 0 and height % 64 == 0
  assert max(width, height) <= 1280 and min(width, height) <= 768


def test_downscale_is_a_box_filter():
  pixels = np.arange(6 * 4 * 3, dtype=np.uint8).reshape(4, 6, 3) * 3
  out = np.asarray(bps.downscale(Image.fromarray(pixels, "RGB"), 2), dtype=np.float64)
  expected = pixels.astype(np.float64).reshape(2, 2, 3, 2, 3).mean(axis=(1, 3))
  assert out.shape == (2, 3, 3)
  assert np.abs(out - expected).max() <= 0.5
  # Sides that are not multiples of k: the centred multiple-of-k part is reduced.
  odd = Image.fromarray(smooth_image(31, 45), "RGB")
  assert bps.downscale(odd, 3).size == (15, 10)


def test_to_rgb_handles_grey_and_rejects_transparency():
  assert bps.to_rgb(Image.new("L", (4, 4), 7)).mode == "RGB"
  assert bps.to_rgb(Image.new("RGBA", (4, 4), (1, 2, 3, 255))).getpixel((0, 0)) == (1, 2, 3)
  with pytest.raises(ValueError):
    bps.to_rgb(Image.new("RGBA", (4, 4), (1, 2, 3, 0)))


def test_png_bytes_keeps_pixels_and_drops_every_metadata_chunk():
  # Wallpapers come with ICC profiles and text; the set promises bare pixels.
  pixels = smooth_image(24, 40, seed=3)
  image = Image.fromarray(pixels, "RGB")
  image.info.update(icc_profile=b"not really a profile", gamma=0.45, Comment="x")
  data = bps.png_bytes(image)
  chunks = set()
  position = 8                                     # after the PNG signature
  while position < len(data):
    length = int.from_bytes(data[position:position + 4], "big")
    chunks.add(data[position + 4:position + 8])
    position += 12 + length
  assert chunks == {b"IHDR", b"IDAT", b"IEND"}
  with Image.open(io.BytesIO(data)) as decoded:
    np.testing.assert_array_equal(np.asarray(decoded), pixels)


def test_wallpaper_versions_group_resolutions():
  assert bps.wallpaper_key("w/Lake/contents/images/1920x1080.jpg") == "w/Lake/contents/images"
  assert bps.wallpaper_key("w/Lake/contents/images_dark/1x1.png") == \
      "w/Lake/contents/images_dark"
  assert bps.wallpaper_key("m/nature/Lake_3840x2160.jpg") == "m/nature/Lake"
  assert bps.wallpaper_key("m/nature/Lake.jpg") == "m/nature/Lake"


def test_licence_of_the_last_matching_stanza():
  stanzas = bps.parse_copyright(COPYRIGHT)
  assert [s["license"] for s in stanzas] == ["GPL-2+", "CC-BY-SA-4.0", "proprietary", "GPL-2+"]
  path = "usr/share/backgrounds/fake/nature/Lake_5120x2880.jpg"
  assert bps.licence_for(stanzas, path) == (
      "CC-BY-SA-4.0", "2021 A Photographer <a@example.org>")
  assert bps.licence_for(stanzas, "usr/share/backgrounds/fake/other.jpg")[0] == "GPL-2+"
  assert bps.is_free("CC-BY-SA-4.0") and bps.is_free("GPL-2+") and bps.is_free("LGPL-3")
  assert not bps.is_free("proprietary")


def test_licence_of_a_file_installed_outside_its_upstream_folder():
  # lomiri's copyright file names `16.04/Bridge.jpg`, installed as
  # usr/share/backgrounds/Bridge.jpg; `20.04/Bridge.jpg` is another image.
  stanzas = bps.parse_copyright(
      "Files: 16.04/Bridge.jpg\nCopyright: 2018 A\nLicense: CC-BY-4.0\n\n"
      "Files: 20.04/Bridge.jpg\nCopyright: 2021 B\nLicense: proprietary\n\n"
      "Files: debian/*\nCopyright: 2018 P\nLicense: Expat\n")
  installed = "usr/share/backgrounds/Bridge.jpg"
  assert bps.upstream_path("lomiri-wallpapers-16.04", installed) == "16.04/Bridge.jpg"
  assert bps.upstream_path("lomiri-wallpapers-20.04", installed) == "20.04/Bridge.jpg"
  assert bps.upstream_path("mate-backgrounds", installed) == installed
  assert bps.licence_for(stanzas, bps.upstream_path("lomiri-wallpapers-16.04", installed)) == (
      "CC-BY-4.0", "2018 A")
  assert bps.licence_for(stanzas, bps.upstream_path("lomiri-wallpapers-20.04", installed))[0] \
      == "proprietary"
  with pytest.raises(LookupError):
    bps.licence_for(stanzas, installed)


def _fake_package(root):
  """A package tree with a photo in three resolutions (one a symlink), a
  transparent artwork, an svg and a screenshot."""
  base = os.path.join(root, "usr", "share", "backgrounds", "fake")
  os.makedirs(os.path.join(base, "nature"))
  os.makedirs(os.path.join(base, "art"))
  photo = smooth_image(1100, 1500, seed=1)
  Image.fromarray(photo, "RGB").save(os.path.join(base, "nature", "Lake_1500x1100.jpg"),
                                     quality=95)
  Image.fromarray(photo, "RGB").resize((750, 550)).save(os.path.join(base, "nature", "Lake.jpg"))
  os.symlink("Lake.jpg", os.path.join(base, "nature", "Lake_750x550.jpg"))
  Image.fromarray(smooth_image(1200, 1300, seed=2), "RGB").save(
      os.path.join(base, "nature", "Hill.png"))
  Image.new("RGBA", (1600, 1200)).save(os.path.join(base, "art", "Secret.png"))
  with open(os.path.join(base, "art", "Logo.svg"), "w") as f:
    f.write("<svg/>")
  Image.new("RGB", (40, 30)).save(os.path.join(base, "nature", "screenshot.png"))
  doc = os.path.join(root, "usr", "share", "doc", "fake-wallpapers")
  os.makedirs(doc)
  with open(os.path.join(doc, "copyright"), "w") as f:
    f.write(COPYRIGHT)
  return base


def _tree_hashes(folder):
  hashes = {}
  for dirpath, _, files in os.walk(folder):
    for name in files:
      path = os.path.join(dirpath, name)
      with open(path, "rb") as f:
        hashes[os.path.relpath(path, folder)] = hashlib.sha256(f.read()).hexdigest()
  return hashes


def test_build_on_a_fake_package_is_deterministic(tmp_path):
  root = str(tmp_path / "pkg")
  _fake_package(root)
  rel = "usr/share/backgrounds/fake/nature/"
  assert bps.largest_versions(root) == {
      "usr/share/backgrounds/fake/art/Secret": "usr/share/backgrounds/fake/art/Secret.png",
      rel + "Hill": rel + "Hill.png", rel + "Lake": rel + "Lake_1500x1100.jpg"}
  packages = {"fake-wallpapers": {"root": root, "version": "1.0-1", "deb": "fake.deb",
                                  "deb_sha256": "0" * 64}}
  # The table may name any version: the largest one is used.
  selection = (("fake-Lake", "fake-wallpapers", rel + "Lake.jpg", "eval", 2),
               ("fake-Hill", "fake-wallpapers", rel + "Hill.png", "train", 2))
  out1, out2 = str(tmp_path / "out1"), str(tmp_path / "out2")
  manifest = bps.build(selection, packages, out1)
  bps.build(selection, packages, out2)
  assert _tree_hashes(out1) == _tree_hashes(out2)
  bps.build(selection, packages, out1)             # again, in place: unchanged
  assert _tree_hashes(out1) == _tree_hashes(out2)

  with open(os.path.join(out1, "manifest.json")) as f:
    assert json.load(f) == manifest
  lake, hill = manifest["files"]
  assert lake["file"] == "sharp-eval/fake-Lake.png"
  assert lake["source"] == rel + "Lake_1500x1100.jpg"
  assert lake["source_size"] == [1500, 1100] and lake["reduced_size"] == [750, 550]
  assert lake["crop"] == [23, 19, 727, 531] and lake["output_size"] == [704, 512]
  assert lake["license"] == "CC-BY-SA-4.0" and lake["version"] == "1.0-1"
  assert hill["split"] == "train" and hill["crop"] is None and hill["output_size"] == [650, 600]
  assert hill["license"] == "GPL-2+"
  for entry in manifest["files"]:
    for key in ("package", "version", "source", "source_size", "source_sha256", "factor",
                "crop", "output_size", "output_sha256", "split", "license"):
      assert key in entry
    with Image.open(os.path.join(out1, entry["file"])) as image:
      assert image.mode == "RGB" and list(image.size) == entry["output_size"]
    assert _tree_hashes(out1)[entry["file"]] == entry["output_sha256"]
  assert manifest["packages"]["fake-wallpapers"]["selected"] == 2
  assert os.path.exists(os.path.join(out1, "licenses", "fake-wallpapers.copyright"))

  # A dropped image's output goes; a non-free or transparent one is refused.
  bps.build(selection[1:], packages, out1)
  assert not os.path.exists(os.path.join(out1, lake["file"]))
  with pytest.raises(ValueError, match="not a free"):
    bps.build((("x", "fake-wallpapers", "usr/share/backgrounds/fake/art/Secret.png",
                "train", 2),), packages, out1)

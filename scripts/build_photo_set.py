"""Build the sharp photo set from freely licensed Debian wallpaper packages.

  python scripts/build_photo_set.py                  # -> runs/photo-set/
  python scripts/build_photo_set.py --list           # candidates, nothing written
  python scripts/build_photo_set.py --contact-sheets # + thumbnail grids to choose from

Downloads the wallpaper packages (`apt-get download`, pinned versions, cached
in --debs), extracts them with `dpkg-deb -x`, takes the photographs named in
SELECTION (the largest version of each wallpaper), converts them to RGB,
downscales each by an integer factor k >= 2 with a box (area) filter
(`Image.reduce`) so that the sources' JPEG artefacts vanish, centre-crops the
"eval" ones to sides that are multiples of 64, and writes 8-bit PNGs:

  <out>/sharp-eval/*.png     held-out evaluation photos: never train or tune on them
  <out>/photos-train/*.png   extra training photos
  <out>/licenses/<pkg>.copyright   each package's copyright file
  <out>/manifest.json        per output: package, version, source, hashes, factor,
                             crop, sizes, split, licence

Same packages in, byte-identical files out (no timestamps anywhere; PNGs are
written without metadata). Stdlib, numpy and Pillow only: no TensorFlow.
See docs/photo-set.md.
"""
import argparse
import fnmatch
import glob
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw, ImageOps

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(REPO_ROOT, "runs", "photo-set")

# The Debian (bookworm) packages and the versions the set was built from.
# `apt-get download NAME=VERSION` pins them; --any-version takes what apt has.
PACKAGES = {
    "plasma-workspace-wallpapers": "4:5.27.5-2",
    "mate-backgrounds": "1.26.0-1",
    "ukui-wallpapers": "20.04.3-1.1",
    "gnome-backgrounds": "43.1-1",
    "lomiri-wallpapers-16.04": "20.04.0-2",
    "lomiri-wallpapers-20.04": "20.04.0-2",
}

SPLITS = {"eval": "sharp-eval", "train": "photos-train"}
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp")
SKIPPED_EXTENSIONS = (".svg", ".svgz", ".xml")

# Licences that allow redistribution and modification (the first word of a
# DEP-5 `License:` field, case-insensitive prefix match).
FREE_LICENCES = ("gpl", "lgpl", "cc-by", "cc0", "public-domain", "mit", "expat", "bsd",
                 "apache")

PLASMA = "usr/share/wallpapers"
MATE = "usr/share/backgrounds/mate"
LOMIRI = "usr/share/backgrounds"

# Packages whose copyright file names images by their upstream folder, which
# is not part of the installed path: {package: (installed folder, upstream
# folder)}. lomiri installs `16.04/Bridge.jpg` as `usr/share/backgrounds/Bridge.jpg`.
UPSTREAM_FOLDERS = {
    "lomiri-wallpapers-16.04": (LOMIRI, "16.04"),
    "lomiri-wallpapers-20.04": (LOMIRI, "20.04"),
}

# name, package, source path inside the package (its largest version), split,
# downscale factor. Chosen from contact sheets of all 89 wallpapers of the
# first four packages and, later, the 19 of lomiri: these are
# the photographs; the rest (all of ukui-wallpapers and gnome-backgrounds, and
# the other mate/plasma ones) are renders, illustrations, gradients, or
# blurred bokeh. Left out as well: mate FreshFlower (1.9 MP, JPEG quality ~75
# at 0.34 bit/pixel) and GreenMeadow (1.3 MP).
SELECTION = (
    # sharp-eval: 12 varied, detailed photographs.
    ("plasma-EveningGlow", "plasma-workspace-wallpapers",
     f"{PLASMA}/EveningGlow/contents/images/2560x1600.jpg", "eval", 2),
    ("plasma-Path", "plasma-workspace-wallpapers",
     f"{PLASMA}/Path/contents/images/2560x1600.jpg", "eval", 2),
    ("plasma-OneStandsOut", "plasma-workspace-wallpapers",
     f"{PLASMA}/OneStandsOut/contents/images/2560x1600.jpg", "eval", 2),
    ("plasma-ColorfulCups", "plasma-workspace-wallpapers",
     f"{PLASMA}/ColorfulCups/contents/images/2560x1600.jpg", "eval", 2),
    ("plasma-FallenLeaf", "plasma-workspace-wallpapers",
     f"{PLASMA}/FallenLeaf/contents/images/2560x1600.jpg", "eval", 2),
    ("plasma-BytheWater", "plasma-workspace-wallpapers",
     f"{PLASMA}/BytheWater/contents/images/2560x1600.jpg", "eval", 2),
    ("mate-Storm", "mate-backgrounds", f"{MATE}/nature/Storm.jpg", "eval", 2),
    ("mate-RainDrops", "mate-backgrounds", f"{MATE}/nature/RainDrops.jpg", "eval", 2),
    ("mate-Blinds", "mate-backgrounds", f"{MATE}/nature/Blinds.jpg", "eval", 2),
    ("mate-TwoWings", "mate-backgrounds", f"{MATE}/nature/TwoWings.jpg", "eval", 2),
    ("mate-LadyBird", "mate-backgrounds", f"{MATE}/nature/LadyBird.jpg", "eval", 2),
    ("mate-Dune", "mate-backgrounds", f"{MATE}/nature/Dune.jpg", "eval", 2),
    # photos-train: every other photograph.
    ("plasma-Grey", "plasma-workspace-wallpapers",
     f"{PLASMA}/Grey/contents/images/2560x1600.jpg", "train", 2),
    ("plasma-ColdRipple", "plasma-workspace-wallpapers",
     f"{PLASMA}/ColdRipple/contents/images/2560x1600.jpg", "train", 2),
    ("plasma-DarkestHour", "plasma-workspace-wallpapers",
     f"{PLASMA}/DarkestHour/contents/images/2560x1600.jpg", "train", 2),
    ("plasma-Kite", "plasma-workspace-wallpapers",
     f"{PLASMA}/Kite/contents/images/2560x1600.jpg", "train", 2),
    ("plasma-summer_1am", "plasma-workspace-wallpapers",
     f"{PLASMA}/summer_1am/contents/images/2560x1600.jpg", "train", 2),
    ("mate-Aqua", "mate-backgrounds", f"{MATE}/nature/Aqua.jpg", "train", 2),
    ("mate-Garden", "mate-backgrounds", f"{MATE}/nature/Garden.jpg", "train", 2),
    ("mate-YellowFlower", "mate-backgrounds", f"{MATE}/nature/YellowFlower.jpg", "train", 2),
    ("mate-Wood", "mate-backgrounds", f"{MATE}/nature/Wood.jpg", "train", 2),
    # lomiri: see LOMIRI_PHOTOS below.
)

# lomiri (Ubuntu Touch wallpaper contests): 14 of its 19 images are
# photographs, all for training (sharp-eval stays the fixed set above). Left
# out: analogpattern (a noise texture), umang, Fossa, Infinite-Sea and
# Painting-Colors (renders and artwork). k is the smallest factor to at most
# 2.5 MP, except Wine (JPEG quality about 70: k = 3 instead of 2).
# (output name, package suffix, file under usr/share/backgrounds, k)
LOMIRI_PHOTOS = (
    ("Bridge", "16.04", "Bridge_by_Sander_Klootwijk.jpg", 3),
    ("Dragonfly", "16.04", "Dragonfly_by_Bolly.jpg", 3),
    ("Fig", "16.04", "Picture_0B_by_freespace.jpg", 2),
    ("Brushes", "16.04", "Picture_1A_by_freespace.jpg", 2),
    ("Wine", "16.04", "Wine_by_Jakkub_Mede.jpg", 3),
    ("Aitzgorri", "16.04", "aitzgorri_by_Aitzol_Berasategi.jpg", 2),
    ("Free", "16.04", "free_by_Peter_Nerlich.jpg", 2),
    ("Friends", "16.04", "friends_by_Aitzol_Berasategi.jpg", 2),
    ("Greentock", "16.04", "greentock_by_Peter_Nerlich.jpg", 2),
    ("Life", "16.04", "life_by_Aitzol_Berasategi.jpg", 2),
    ("PicosDeEuropa", "16.04", "picosdeeuropa_by_Aitzol_Berasategi.jpg", 2),
    ("Seeding", "16.04", "seeding_by_Clements_Engelhardt.jpg", 3),
    ("Sunset", "16.04", "sunset_by_Aitzol_Berasategi.jpg", 3),
    ("Kleiber", "20.04", "Kleiber_by_Lukas_Baubkus.jpg", 3),
)
SELECTION += tuple((f"lomiri-{name}", f"lomiri-wallpapers-{release}", f"{LOMIRI}/{file}",
                    "train", k) for name, release, file, k in LOMIRI_PHOTOS)

# Eval crops: at most this many pixels on the long and short side.
EVAL_MAX_LONG = 1280
EVAL_MAX_SHORT = 768
CROP_MULTIPLE = 64
MIN_SHORT_SIDE = 512
MAX_PIXELS = 2_500_000


# --- pure processing ---------------------------------------------------------

def choose_factor(width, height, max_pixels=MAX_PIXELS, min_short=MIN_SHORT_SIDE):
  """The smallest integer k >= 2 whose reduction has at most max_pixels.

  Raises ValueError if that leaves fewer than min_short pixels on the short side.
  """
  k = 2
  while (width // k) * (height // k) > max_pixels:
    k += 1
  check_factor(width, height, k, min_short)
  return k


def check_factor(width, height, k, min_short=MIN_SHORT_SIDE):
  """Raises ValueError unless k >= 2 keeps at least min_short pixels on the short side."""
  if int(k) != k or k < 2:
    raise ValueError(f"downscale factor must be an integer >= 2, got {k}")
  if min(width // k, height // k) < min_short:
    raise ValueError(f"{width}x{height} / {k} = {width // k}x{height // k}: short side "
                     f"below {min_short}")


def eval_crop_box(width, height, multiple=CROP_MULTIPLE, max_long=EVAL_MAX_LONG,
                  max_short=EVAL_MAX_SHORT):
  """A centred crop box (left, top, right, bottom) with sides multiples of `multiple`,
  at most max_long x max_short (max_short x max_long for portrait images)."""
  max_w, max_h = (max_long, max_short) if width >= height else (max_short, max_long)
  crop_w = min(width, max_w) // multiple * multiple
  crop_h = min(height, max_h) // multiple * multiple
  if crop_w == 0 or crop_h == 0:
    raise ValueError(f"{width}x{height} is smaller than one {multiple}-pixel block")
  left = (width - crop_w) // 2
  top = (height - crop_h) // 2
  return (left, top, left + crop_w, top + crop_h)


def to_rgb(image):
  """An RGB copy of a PIL image: EXIF orientation applied, grey replicated, and
  alpha dropped (only if fully opaque: a transparent wallpaper is not a photo)."""
  image = ImageOps.exif_transpose(image)
  if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
    image = image.convert("RGBA")
    alpha = np.asarray(image.getchannel("A"))
    if alpha.min() < 255:
      raise ValueError("image has transparent pixels")
  return image.convert("RGB")


def downscale(image, k):
  """Box-filter reduction by k of the centred crop whose sides are multiples of k
  (so that every output pixel is the mean of a full k x k block)."""
  width, height = image.size
  check_factor(width, height, k, min_short=1)
  new_w, new_h = width // k * k, height // k * k
  left, top = (width - new_w) // 2, (height - new_h) // 2
  if (new_w, new_h) != (width, height):
    image = image.crop((left, top, left + new_w, top + new_h))
  return image.reduce(k)


def process_image(path, split, k):
  """Opens a source image and returns (output RGB image, info dict)."""
  with Image.open(path) as source:
    source.load()
    source_size = source.size
    rgb = to_rgb(source)
  check_factor(rgb.size[0], rgb.size[1], k)
  reduced = downscale(rgb, k)
  crop = None
  if split == "eval":
    crop = eval_crop_box(*reduced.size)
    reduced = reduced.crop(crop)
  elif split != "train":
    raise ValueError(f"split must be 'eval' or 'train', got {split!r}")
  info = {"source_size": list(source_size), "factor": k,
          "reduced_size": [source_size[0] // k, source_size[1] // k],
          "crop": list(crop) if crop else None, "output_size": list(reduced.size)}
  return reduced, info


def png_bytes(image):
  """The PNG encoding of an RGB image, without metadata (deterministic for a
  given Pillow and zlib)."""
  # A fresh image carries no info dict: Pillow would otherwise write back the
  # source's ICC profile, gamma or text chunks, which the set promises not to keep.
  bare = Image.frombytes("RGB", image.size, image.convert("RGB").tobytes())
  buffer = io.BytesIO()
  bare.save(buffer, format="PNG", compress_level=9)
  return buffer.getvalue()


def sha256_file(path):
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for block in iter(lambda: f.read(1 << 20), b""):
      digest.update(block)
  return digest.hexdigest()


def write_if_changed(path, data):
  """Writes bytes atomically, leaving the file untouched if it already holds them."""
  if os.path.exists(path):
    with open(path, "rb") as f:
      if f.read() == data:
        return False
  tmp = path + ".tmp"
  with open(tmp, "wb") as f:
    f.write(data)
  os.replace(tmp, path)
  return True


# --- wallpaper versions --------------------------------------------------------

_SIZE_SUFFIX = re.compile(r"_\d+x\d+$")


def wallpaper_key(relpath):
  """The wallpaper a file is one version of: a KDE package's image folder
  (`.../contents/images` or `images_dark`), else the folder plus the file stem
  without a `_WIDTHxHEIGHT` suffix."""
  folder, name = os.path.split(relpath)
  if os.path.basename(os.path.dirname(folder)) == "contents":
    return folder
  return os.path.join(folder, _SIZE_SUFFIX.sub("", os.path.splitext(name)[0]))


def image_files(root):
  """Relative paths of the wallpaper images under root: regular files (symlinks to
  another resolution are the same file), no svg/xml, no screenshots or docs."""
  found = []
  for folder, dirs, files in os.walk(root):
    dirs.sort()
    for name in sorted(files):
      path = os.path.join(folder, name)
      rel = os.path.relpath(path, root)
      lower = name.lower()
      if (os.path.islink(path) or lower.endswith(SKIPPED_EXTENSIONS)
          or not lower.endswith(IMAGE_EXTENSIONS) or lower.startswith("screenshot")
          or rel.startswith("usr/share/doc/")):
        continue
      found.append(rel)
  return found


def image_size(path):
  with Image.open(path) as image:
    return image.size


def largest_versions(root):
  """{wallpaper key: relative path of its largest version} for a package tree.
  Ties (same pixel count) go to the larger file, then the later name."""
  best = {}
  for rel in image_files(root):
    width, height = image_size(os.path.join(root, rel))
    rank = (width * height, os.path.getsize(os.path.join(root, rel)), rel)
    key = wallpaper_key(rel)
    if key not in best or rank > best[key]:
      best[key] = rank
  return {key: rank[2] for key, rank in sorted(best.items())}


# --- copyright files -----------------------------------------------------------

def parse_copyright(text):
  """The `Files:` stanzas of a machine-readable (DEP-5) copyright file, in order:
  [{"files": [patterns], "copyright": str, "license": str}]."""
  stanzas = []
  for block in re.split(r"\n\s*\n", text):
    fields, current = {}, None
    for line in block.splitlines():
      if line[:1] in (" ", "\t") and current:
        fields[current] += "\n" + line.strip()
      elif ":" in line:
        current, _, value = line.partition(":")
        current = current.strip().lower()
        fields[current] = value.strip()
    if "files" in fields:
      stanzas.append({"files": fields["files"].split(),
                      "copyright": " ".join(fields.get("copyright", "").split()),
                      "license": fields.get("license", "").split("\n")[0].strip()})
  return stanzas


def upstream_path(package, relpath):
  """The path a package's copyright file names an installed file by: the
  installed path, or for UPSTREAM_FOLDERS packages the upstream folder plus
  the path below the installed folder."""
  installed, upstream = UPSTREAM_FOLDERS.get(package, (None, None))
  if installed and relpath.startswith(installed + "/"):
    return upstream + relpath[len(installed):]
  return relpath


def licence_for(stanzas, relpath):
  """(licence, copyright) of the last stanza matching a path (see
  upstream_path). Patterns are upstream paths (`nature/Aqua.jpg`) or `*`,
  matched against the path or its tail."""
  match = None
  for stanza in stanzas:
    for pattern in stanza["files"]:
      if pattern == "*" or fnmatch.fnmatch(relpath, pattern) or fnmatch.fnmatch(
          relpath, "*/" + pattern):
        if not pattern.startswith("debian/"):
          match = stanza
  if match is None:
    raise LookupError(f"no copyright stanza for {relpath}")
  return match["license"], match["copyright"]


def is_free(licence):
  return licence.lower().startswith(FREE_LICENCES)


def upstream_metadata(root, relpath):
  """Author and licence from a KDE wallpaper's metadata.json, if there is one."""
  parts = relpath.split("/")
  if "contents" not in parts:
    return None
  meta = os.path.join(root, *parts[:parts.index("contents")], "metadata.json")
  if not os.path.exists(meta):
    return None
  with open(meta, encoding="utf-8") as f:
    plugin = json.load(f).get("KPlugin", {})
  authors = [a.get("Name") for a in plugin.get("Authors", []) if a.get("Name")]
  return {"name": plugin.get("Name"), "authors": authors, "license": plugin.get("License")}


# --- packages ------------------------------------------------------------------

def deb_field(deb, field):
  return subprocess.run(["dpkg-deb", "-f", deb, field], check=True, capture_output=True,
                        text=True).stdout.strip()


def find_deb(debs_dir, package):
  found = sorted(glob.glob(os.path.join(debs_dir, f"{package}_*.deb")))
  return found[-1] if found else None


def fetch_deb(debs_dir, package, version):
  """The cached .deb of a package, downloaded with `apt-get download` if absent."""
  os.makedirs(debs_dir, exist_ok=True)
  deb = find_deb(debs_dir, package)
  if deb and (version is None or deb_field(deb, "Version") == version):
    return deb
  spec = package if version is None else f"{package}={version}"
  print(f"apt-get download {spec}", flush=True)
  result = subprocess.run(["apt-get", "download", spec], cwd=debs_dir)
  if result.returncode != 0:
    sys.exit(f"apt-get download {spec} failed (run `apt-get update` first; "
             f"--any-version accepts another version)")
  deb = find_deb(debs_dir, package)
  if deb is None:
    sys.exit(f"apt-get download {spec} left no .deb in {debs_dir}")
  return deb


def extract_deb(deb, extract_dir):
  """Extracts a .deb into extract_dir/<package> once (a stamp holds its SHA-256)."""
  package = deb_field(deb, "Package")
  target = os.path.join(extract_dir, package)
  stamp = os.path.join(extract_dir, package + ".sha256")
  digest = sha256_file(deb)
  if os.path.isdir(target) and os.path.exists(stamp):
    with open(stamp) as f:
      if f.read().strip() == digest:
        return target
  os.makedirs(extract_dir, exist_ok=True)
  tmp = tempfile.mkdtemp(dir=extract_dir, prefix=package + ".")
  subprocess.run(["dpkg-deb", "-x", deb, tmp], check=True)
  shutil.rmtree(target, ignore_errors=True)
  os.replace(tmp, target)
  with open(stamp, "w") as f:
    f.write(digest + "\n")
  return target


# --- building ------------------------------------------------------------------

def build(selection, packages, out_dir):
  """Writes the set for a selection; packages maps a package name to
  {"root": extracted tree, "version": str, "deb": file name, "deb_sha256": str}.
  Returns the manifest (also written to out_dir/manifest.json)."""
  names = [entry[0] for entry in selection]
  if len(set(names)) != len(names):
    raise ValueError("duplicate output names in the selection")
  for split in SPLITS.values():
    os.makedirs(os.path.join(out_dir, split), exist_ok=True)
  os.makedirs(os.path.join(out_dir, "licenses"), exist_ok=True)

  manifest_packages, stanzas = {}, {}
  for package in sorted(packages):
    info = packages[package]
    copyright_rel = f"usr/share/doc/{package}/copyright"
    copyright_path = os.path.join(info["root"], copyright_rel)
    with open(copyright_path, encoding="utf-8") as f:
      text = f.read()
    stanzas[package] = parse_copyright(text)
    write_if_changed(os.path.join(out_dir, "licenses", package + ".copyright"),
                     text.encode("utf-8"))
    manifest_packages[package] = {
        "version": info["version"], "deb": info.get("deb"),
        "deb_sha256": info.get("deb_sha256"), "copyright_file": copyright_rel,
        "copyright_sha256": sha256_file(copyright_path),
        "copy": f"licenses/{package}.copyright",
        "selected": sum(entry[1] == package for entry in selection)}

  files, wanted, versions = [], set(), {}
  for name, package, relpath, split, k in selection:
    root = packages[package]["root"]
    if package not in versions:
      versions[package] = largest_versions(root)
    largest = versions[package].get(wallpaper_key(relpath))
    if largest is None:
      raise FileNotFoundError(f"{package}: {relpath} not found")
    if largest != relpath:
      print(f"note: {relpath} -> its largest version {largest}")
      relpath = largest
    licence, holder = licence_for(stanzas[package], upstream_path(package, relpath))
    if not is_free(licence):
      raise ValueError(f"{package}:{relpath}: licence {licence!r} is not a free one")
    source = os.path.join(root, relpath)
    image, info = process_image(source, split, k)
    out_rel = f"{SPLITS[split]}/{name}.png"
    data = png_bytes(image)
    write_if_changed(os.path.join(out_dir, out_rel), data)
    wanted.add(out_rel)
    entry = {"file": out_rel, "split": split, "package": package,
             "version": packages[package]["version"], "source": relpath,
             "source_bytes": os.path.getsize(source), "source_sha256": sha256_file(source),
             **info, "output_sha256": hashlib.sha256(data).hexdigest(),
             "license": licence, "copyright": holder}
    meta = upstream_metadata(root, relpath)
    if meta:
      entry["upstream_metadata"] = meta
    files.append(entry)
    size = "x".join(map(str, info["output_size"]))
    print(f"{out_rel:40s} {size:>10s}  {package} {relpath}", flush=True)

  for split in SPLITS.values():  # drop outputs of images no longer selected
    for path in glob.glob(os.path.join(out_dir, split, "*.png")):
      if os.path.relpath(path, out_dir) not in wanted:
        os.remove(path)

  manifest = {
      "description": "Sharp photographs from Debian wallpaper packages; see "
                     "docs/photo-set.md. sharp-eval is never used for training or tuning.",
      "built_with": {"pillow": Image.__version__},
      "packages": manifest_packages,
      "splits": {split: sum(f["split"] == split for f in files) for split in SPLITS},
      "files": files}
  write_if_changed(os.path.join(out_dir, "manifest.json"),
                   (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode("utf-8"))
  return manifest


def contact_sheets(roots, out_dir, per_sheet=20, columns=4, tile=360):
  """Numbered thumbnail grids of every wallpaper's largest version; returns the
  list of (index, package, relpath, size)."""
  candidates = []
  for package in sorted(roots):
    for rel in largest_versions(roots[package]).values():
      candidates.append((package, rel, image_size(os.path.join(roots[package], rel))))
  os.makedirs(out_dir, exist_ok=True)
  tile_h = tile * 5 // 8
  for start in range(0, len(candidates), per_sheet):
    chunk = candidates[start:start + per_sheet]
    rows = (len(chunk) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * tile, rows * (tile_h + 20)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, (package, rel, _) in enumerate(chunk):
      with Image.open(os.path.join(roots[package], rel)) as image:
        image.draft("RGB", (2 * tile, 2 * tile))
        thumb = image.convert("RGB")
      thumb.thumbnail((tile - 8, tile_h - 4))
      x, y = (j % columns) * tile, (j // columns) * (tile_h + 20)
      sheet.paste(thumb, (x + 4, y + 2))
      label = rel.split("/contents/")[0] if "/contents/" in rel else rel
      draw.text((x + 4, y + tile_h + 2), f"{start + j} {os.path.basename(label)}", fill="black")
    sheet.save(os.path.join(out_dir, f"contact-{start // per_sheet:02d}.png"))
  return [(i, *c) for i, c in enumerate(candidates)]


def main(argv=None):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default=DEFAULT_OUT, help="output folder")
  parser.add_argument("--debs", default=None, help="cache of .deb files (default <out>/debs)")
  parser.add_argument("--extract", default=None,
                      help="where packages are extracted (default <out>/extract)")
  parser.add_argument("--any-version", action="store_true",
                      help="accept the package versions apt has instead of the pinned ones")
  parser.add_argument("--list", action="store_true",
                      help="print every wallpaper's largest version and its size, then stop")
  parser.add_argument("--contact-sheets", action="store_true",
                      help="also write numbered thumbnail grids to <out>/contact-sheets")
  args = parser.parse_args(argv)
  debs_dir = args.debs or os.path.join(args.out, "debs")
  extract_dir = args.extract or os.path.join(args.out, "extract")

  packages = {}
  for package, version in PACKAGES.items():
    deb = fetch_deb(debs_dir, package, None if args.any_version else version)
    actual = deb_field(deb, "Version")
    packages[package] = {"root": extract_deb(deb, extract_dir), "version": actual,
                         "deb": os.path.basename(deb), "deb_sha256": sha256_file(deb)}
  roots = {name: info["root"] for name, info in packages.items()}

  if args.list or args.contact_sheets:
    sheets = os.path.join(args.out, "contact-sheets")
    if args.contact_sheets:
      listing = contact_sheets(roots, sheets)
    else:
      listing = [(i, p, r, image_size(os.path.join(roots[p], r))) for i, (p, r) in enumerate(
          (p, r) for p in sorted(roots) for r in largest_versions(roots[p]).values())]
    for i, package, rel, (w, h) in listing:
      print(f"{i:3d} {w:5d}x{h:<5d} {w * h / 1e6:5.1f} MP  {package}  {rel}")
    if args.list:
      return

  manifest = build(SELECTION, packages, args.out)
  for split, folder in SPLITS.items():
    chosen = [f for f in manifest["files"] if f["split"] == split]
    pixels = sum(f["output_size"][0] * f["output_size"][1] for f in chosen)
    print(f"{folder}: {len(chosen)} images, {pixels / 1e6:.1f} MP")


if __name__ == "__main__":
  main()

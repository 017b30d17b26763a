"""Compress and decompress one image with the shipped model; print bpp, PSNR, MS-SSIM.

The bundled image is demo.png (a 512x512 crop of Kodak kodim23; assets/ in
the repository, nlaic_tf/assets/ in an installed package). The
.nlaic file and the decoded PNG go to --out.

examples:
  nlaic demo
  nlaic demo photo.png --quality 1.5 --out runs/mine
"""
import os
import time
from pathlib import Path

from nlaic_tf import resources
from nlaic_tf.cli import codec_files
from nlaic_tf.cli.errors import UserError

NAME = "demo"
HELP = "round-trip one image through the codec and report its quality"
BUNDLED_IMAGE = resources.shipped_path("assets", "demo.png")


def add_arguments(parser) -> None:
  parser.add_argument("image", nargs="?", default=str(BUNDLED_IMAGE),
                      help="image file (default: the bundled demo.png)")
  parser.add_argument("--quality", type=float, action="append",
                      help="rate level(s); repeatable (default: every level)")
  parser.add_argument("--out", default="runs/demo", help="output folder (default: %(default)s)")
  codec_files.add_model_argument(parser)


def run(args) -> int:
  from nlaic_tf import api, metrics
  from nlaic_tf.io.atomic import atomic_write_bytes
  from nlaic_tf.io.images import ImageReadError, read_image, save_png

  try:
    image = read_image(args.image)
  except ImageReadError as e:
    raise UserError(str(e)) from None
  codec = codec_files.load_codec(args)
  levels = api.num_levels(codec)
  qualities = args.quality or list(range(levels))
  for q in qualities:
    codec_files.check_quality(q, levels)
  os.makedirs(args.out, exist_ok=True)
  h, w = image.shape[:2]
  print(f"{_shown_path(args.image)}: {w}x{h}, model {codec.model_id.numpy().hex()}")
  print(f"{'quality':>7} {'bytes':>8} {'bpp':>7} {'PSNR dB':>8} {'MS-SSIM':>8} "
        f"{'enc s':>6} {'dec s':>6}")
  for q in qualities:
    start = time.perf_counter()
    data = api.compress(image, q, codec)
    encode_s = time.perf_counter() - start
    start = time.perf_counter()
    decoded = api.decompress(data, codec)
    decode_s = time.perf_counter() - start
    stem = f"{Path(args.image).stem}_q{q:g}"
    atomic_write_bytes(Path(args.out) / f"{stem}.nlaic", data)
    save_png(Path(args.out) / f"{stem}.png", decoded)
    quality = (f"{metrics.ms_ssim(image, decoded):8.4f}" if min(h, w) >= 161
               else f"{'n/a':>8}")
    print(f"{q:7.3g} {len(data):8d} {metrics.bpp(len(data), h, w):7.4f} "
          f"{metrics.psnr(image, decoded):8.2f} {quality} {encode_s:6.2f} {decode_s:6.2f}")
  print(f"files in {args.out}/")
  return 0


def _shown_path(path: str) -> str:
  """The path relative to the working directory when it lies below it, else as given."""
  relative = os.path.relpath(path)
  return path if relative.startswith(os.pardir) else relative

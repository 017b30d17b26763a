"""Compress images to .nlaic files with the learned codec.

IN is an image file, a folder or a quoted glob; OUT is the output file (one
input) or folder (several inputs), default: beside the input with suffix
.nlaic. Grayscale, RGBA and 16-bit images are converted to 8-bit RGB (see
the README). Outputs are written atomically.

examples:
  nlaic compress photo.png                      # photo.nlaic at the default quality
  nlaic compress photo.png small.nlaic --quality 0.5
  nlaic compress photo.png --target-bpp 0.25    # highest quality within 0.25 bpp
  nlaic compress photo.png --refine 30          # slower encoder, smaller loss
  nlaic compress 'shots/*.png' out/
"""
from nlaic_tf.cli import codec_files
from nlaic_tf.cli.errors import UserError

NAME = "compress"
HELP = "compress images to .nlaic files"


def add_arguments(parser) -> None:
  parser.add_argument("input", metavar="IN", help="image file, folder or glob")
  parser.add_argument("output", metavar="OUT", nargs="?", help="output file or folder")
  rate = parser.add_mutually_exclusive_group()
  rate.add_argument("--quality", type=float,
                    help="rate level, 0 (smallest) .. levels-1 (best); fractional values "
                         "interpolate (default: 3, or the best level of a model with fewer)")
  rate.add_argument("--target-bpp", type=float,
                    help="search the highest quality whose file stays within this many "
                         "bits per pixel")
  parser.add_argument("--refine", type=int, default=0, metavar="STEPS",
                      help="optimise the latents for this image for STEPS steps before "
                           "coding (each about one synthesis pass forward and back: "
                           "slower encoding, a better rate-distortion trade-off; the "
                           "decoder is unchanged; default 0)")
  codec_files.add_model_argument(parser)


def run(args) -> int:
  from nlaic_tf import api, metrics
  from nlaic_tf.io.atomic import atomic_write_bytes
  from nlaic_tf.io.images import ImageReadError, find_images, read_image

  pairs = codec_files.plan(args.input, args.output, lambda s: find_images(s)[0],
                           ".nlaic")
  codec = codec_files.load_codec(args)
  levels = api.num_levels(codec)
  if args.quality is None:  # A model with fewer levels: its best one.
    quality = min(api.DEFAULT_QUALITY, levels - 1.)
  else:
    quality = codec_files.check_quality(args.quality, levels)
  if args.target_bpp is not None and args.target_bpp <= 0:
    raise UserError("--target-bpp must be positive")
  if args.refine < 0:
    raise UserError("--refine must be 0 or more steps")

  def work(src, dst):
    try:
      image = read_image(src)
    except ImageReadError as e:
      raise UserError(e.reason) from None
    if args.target_bpp is not None:
      data, q = api.compress_to_bpp(image, args.target_bpp, codec,
                                       refine_steps=args.refine)
    else:
      data, q = api.compress(image, quality, codec, args.refine), quality
    atomic_write_bytes(dst, data)
    h, w = image.shape[:2]
    return (f"{src} -> {dst}: {w}x{h}, {len(data)} bytes, "
            f"{metrics.bpp(len(data), h, w):.4f} bpp, quality {q:.3g}")

  return codec_files.run_all(pairs, work, args.quiet)

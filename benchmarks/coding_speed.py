"""Encode/decode time, bits per pixel, sequential steps and peak memory of the codec.

  python benchmarks/coding_speed.py                      # shipped model, all Kodak
  python benchmarks/coding_speed.py --images 2 --raster_images 1 --raster_crop 128
  python benchmarks/coding_speed.py --model '' --config small --weights runs/small/best/weights
  python benchmarks/coding_speed.py --images 0 --raster_images 0 --eightk --compare_tiling

Cases, each in its own subprocess. Memory: "comp MB" and "dec MB" are the
peak resident memory during `compress` and `decompress` (VmHWM reset before
each call, Linux: what the process held plus what the call took, as a
`nlaic compress` or `decompress` of that image needs at most); "peak MB" is
the whole process's (ru_maxrss), which also covers the exactness checks'
`encode` (with its whole reconstruction) and `decode`.
  - wavefront: every Kodak image (or the first --images), one 3840x2160
    image tiled from Kodak (--fourk) and one 7680x4320 (--eightk);
  - tiled vs untiled (--compare_tiling): instead of the above, each of those
    images coded by the same weights rebuilt with each `tile_pixels` of
    --tilings: 0 (whole-image transforms) and 1024 by default (the codec's
    own default is 512, `DEFAULT_TILE_PIXELS` of `nlaic_tf.transforms.tiling`:
    --tilings 0,512 measures it); the table reports the ratios of peak
    memory and time and the differences of bpp and PSNR;
  - raster vs wavefront: the first --raster_images Kodak images, cropped to the
    top-left --raster_crop x --raster_crop pixels (0: whole image), coded in both
    orders by the same weights; the table reports raster time / wavefront time.

The wavefront codec is the SavedModel at --model (what the `nlaic` command runs)
if it exists, else `build_codec(--config, --weights)`. Raster order is
`build_codec(config, weights, raster=True)` on the same weights (the
SavedModel's variables), checked to have the same model id. Each process first
codes a 64x64 image untimed (function instantiation), then times `compress`
and `decompress` (the functions the `nlaic` command and the SavedModel's
signatures run) once at first call for that image size ("1st", what a one-image
command pays) and --repeats more times (the fastest is shown). Exactness:
`encode` (bitstream, latents, reconstruction) must give the same bytes as
`compress`, `decode` the same latents, and every `decompress` the encoder's
reconstruction. Peak memory covers all of these calls.
"""
import json
import os
import resource
import sys

from absl import app, flags

import child_process
from child_process import REPO_ROOT

LARGE = {"4k": (2160, 3840), "8k": (4320, 7680)}  # height, width

FLAGS = flags.FLAGS
child_process.define_model_flags()
flags.DEFINE_integer("images", 0, "Kodak images to code in wavefront order (0: all, "
                     "-1: none).")
flags.DEFINE_bool("fourk", True, "Also code a 3840x2160 image tiled from Kodak.")
flags.DEFINE_bool("eightk", False, "Also code a 7680x4320 image tiled from Kodak.")
flags.DEFINE_bool("compare_tiling", False, "Code each image with the same weights "
                  "rebuilt with each of --tilings (see the module docstring).")
flags.DEFINE_list("tilings", ["0", "1024"], "tile_pixels of --compare_tiling (0: untiled).")
flags.DEFINE_integer("raster_images", 1, "Kodak images to code in both orders (0: none).")
flags.DEFINE_integer("raster_crop", 128,
                     "Top-left crop (pixels, square) of the raster comparison images; "
                     "0: whole image (~196k sequential steps, minutes per image).")
flags.DEFINE_integer("repeats", 1, "Timed compress+decompress rounds per case after the "
                     "first round (first call at that image size, timed separately).")
flags.DEFINE_string("child", None, "Internal: JSON case to run in this process.")


# ----------------------------------------------------------------- images


def case_image(case):
  """The uint8 [H, W, 3] image of a case: {"image": path or a key of LARGE,
  "crop": int}."""
  from nlaic_tf.io import read_image
  if case["image"] in LARGE:
    image = child_process.large_image(*LARGE[case["image"]], FLAGS.kodak_dir)
  else:
    image = read_image(case["image"])
  crop = case.get("crop") or 0
  return image[:crop, :crop] if crop else image


# ----------------------------------------------------------------- codecs


def _saved_model_dir():
  from nlaic_tf import zoo
  path = zoo.model_dir() if FLAGS.model is None else FLAGS.model
  if path and os.path.exists(os.path.join(path, "saved_model.pb")):
    return path
  if FLAGS.model:
    raise FileNotFoundError(f"no SavedModel at --model={FLAGS.model!r}")
  return None


def model_source():
  """Describes the weights: {"saved_model": dir} or {"config", "weights"}."""
  path = _saved_model_dir()
  if path:
    return dict(saved_model=os.path.abspath(path))
  if not FLAGS.weights:
    raise ValueError("no SavedModel found: pass --weights (and --config), or --model. "
                     "Both orders must use the same trained weights.")
  return dict(config=FLAGS.config, weights=FLAGS.weights)


def load(source, raster, tile_pixels=None):
  """-> (codec with encode/decode, model id hex). tile_pixels: None for the
  codec as the source has it, else the weights rebuilt with this tiling."""
  from nlaic_tf import zoo
  from nlaic_tf.models import ModelConfig
  from nlaic_tf.models.codec import NLAICCodec
  from nlaic_tf.transforms.tiling import DEFAULT_TILE_PIXELS
  rebuild = raster or tile_pixels is not None
  if "saved_model" in source and not rebuild:
    return _with_id(zoo.load_codec(source["saved_model"],
                                    saved_model=FLAGS.saved_model))
  if "saved_model" in source:
    config = ModelConfig.from_json(
        json.dumps(zoo.read_model_info(source["saved_model"])["config"]))
    weights = os.path.join(source["saved_model"], "variables", "variables")
  else:
    config, weights = source["config"], source["weights"]
  tile_pixels = DEFAULT_TILE_PIXELS if tile_pixels is None else tile_pixels
  return _with_id(NLAICCodec(zoo.build_model(config, weights), raster=raster,
                             tile_pixels=tile_pixels))


def _with_id(codec):
  return codec, codec.model_id.numpy().hex()


def sequential_steps(config_json, height, width, raster):
  """Coding steps of the latent of an image of height x width (padded to 64)."""
  from nlaic_tf.entropy.wavefront import wavefront_coefficients
  from nlaic_tf.models import ModelConfig
  from nlaic_tf.models.codec import PAD_MULTIPLE
  config = ModelConfig.from_json(config_json)
  c = config.latent_channels
  h, w = (-(-s // PAD_MULTIPLE) * PAD_MULTIPLE // 16 for s in (height, width))
  if raster:
    return c * h * w
  a, b, d = wavefront_coefficients(config.context_kernel)
  return a * (c - 1) + b * (h - 1) + d * (w - 1) + 1


# ------------------------------------------------------------ one case


def check_exact(codec, image, quality, bitstream):
  """True if `encode` writes `bitstream`, and `decode` of it returns the
  encoder's latents and reconstruction. Returns (exact, reconstruction).
  A SavedModel without `encode` (`NLAICCodec.PYTHON_ONLY`): True, and
  `decompress` of `bitstream` as the reconstruction (the repeats still check
  that every call gives the same bytes and pixels)."""
  import numpy as np
  if not hasattr(codec, "encode"):
    return True, codec.decompress(bitstream).numpy()
  expected, y_encoded, reconstruction = codec.encode(image, quality)
  decoded, y_decoded = codec.decode(bitstream)
  reconstruction = reconstruction.numpy()
  exact = (expected.numpy() == bitstream and
           np.array_equal(y_decoded.numpy(), y_encoded.numpy()) and
           np.array_equal(decoded.numpy(), reconstruction))
  return bool(exact), reconstruction


def measure(case):
  """Codes one image in one order; returns times, size, steps, exactness, peak memory."""
  import numpy as np
  import tensorflow as tf
  from nlaic_tf import metrics
  if FLAGS.threads:
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
  codec, model_id = load(case["source"], case["raster"], case.get("tile_pixels"))
  image = case_image(case)
  quality = tf.constant(FLAGS.quality, tf.float32)
  warm = np.zeros([64, 64, 3], np.uint8) + 128
  codec.decompress(codec.compress(warm, quality))
  if hasattr(codec, "encode"):
    codec.decode(codec.encode(warm, quality)[0])
  bitstream, first_encode_s, compress_mb = child_process.timed_call(codec.compress, image, quality)
  decoded, first_decode_s, decompress_mb = child_process.timed_call(codec.decompress, bitstream)
  exact, reconstruction = check_exact(codec, image, quality, bitstream)
  exact &= np.array_equal(decoded, reconstruction)
  encode_s, decode_s = [first_encode_s], [first_decode_s]
  for _ in range(FLAGS.repeats):
    again, seconds, peak = child_process.timed_call(codec.compress, image, quality)
    encode_s.append(seconds)
    compress_mb = max(compress_mb, peak)
    decoded, seconds, peak = child_process.timed_call(codec.decompress, bitstream)
    decode_s.append(seconds)
    decompress_mb = max(decompress_mb, peak)
    exact &= again == bitstream and np.array_equal(decoded, reconstruction)
  height, width = image.shape[:2]
  return dict(
      name=case["name"], group=case["group"], raster=case["raster"],
      height=height, width=width, model_id=model_id,
      encode_s=min(encode_s[1:] or encode_s), decode_s=min(decode_s[1:] or decode_s),
      first_encode_s=first_encode_s, first_decode_s=first_decode_s,
      bpp=metrics.bpp(len(bitstream), height, width), exact=bool(exact),
      psnr=metrics.psnr(image, reconstruction), tiles=_tiles_label(case),
      steps=sequential_steps(codec.config_json.numpy().decode(), height, width,
                             case["raster"]),
      compress_mb=compress_mb, decompress_mb=decompress_mb,
      peak_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.)


def _tiles_label(case):
  """How a case's transforms run: "as is" (the source's codec), "off" or the
  tile size in pixels."""
  tile_pixels = case.get("tile_pixels")
  return "as is" if tile_pixels is None else (str(tile_pixels) if tile_pixels else "off")


def run_child(case):
  """Runs `measure(case)` in a fresh interpreter; returns its dict."""
  return child_process.run_child(
      __file__, json.dumps(case),
      {name: FLAGS[name].value for name in ("kodak_dir", "quality", "threads", "repeats",
                                               "saved_model")},
      case["name"])


# ----------------------------------------------------------------- report


def cases(source):
  """All cases of this run, as JSON-able dicts."""
  files = child_process.kodak_files(FLAGS.kodak_dir)
  chosen = [] if FLAGS.images < 0 else files[:FLAGS.images] if FLAGS.images else files
  out = [dict(name=os.path.basename(f), group="kodak", image=f, raster=False)
         for f in chosen]
  out += [dict(name=f"kodak-tiled-{key}", group=key, image=key, raster=False)
          for key, wanted in (("4k", FLAGS.fourk), ("8k", FLAGS.eightk)) if wanted]
  if FLAGS.compare_tiling:
    out = [dict(case, group="tiling", tile_pixels=int(tile_pixels))
           for case in out for tile_pixels in FLAGS.tilings]
  for f in files[:FLAGS.raster_images]:
    crop = FLAGS.raster_crop
    name = os.path.basename(f) + (f" crop {crop}" if crop else "")
    out += [dict(name=name, group="orders", image=f, crop=crop, raster=raster)
            for raster in (False, True)]
  for case in out:
    case["source"] = source
  return out


def print_tables(rows):
  print(f"{'image':<26} {'order':<9} {'tiles':>5} {'size':>9} {'steps':>7} {'encode s':>9} "
        f"{'decode s':>9} {'1st enc':>8} {'1st dec':>8} {'bpp':>7} {'PSNR':>6} "
        f"{'comp MB':>8} {'dec MB':>7} {'peak MB':>8} exact")
  for r in rows:
    print(f"{r['name']:<26} {'raster' if r['raster'] else 'wavefront':<9} "
          f"{r['tiles']:>5} {r['width']:>4}x{r['height']:<4} {r['steps']:>7} "
          f"{r['encode_s']:>9.3f} {r['decode_s']:>9.3f} {r['first_encode_s']:>8.3f} "
          f"{r['first_decode_s']:>8.3f} {r['bpp']:>7.4f} {r['psnr']:>6.2f} "
          f"{r['compress_mb']:>8.0f} {r['decompress_mb']:>7.0f} "
          f"{r['peak_mb']:>8.0f} {'yes' if r['exact'] else 'NO'}")
  kodak = [r for r in rows if r["group"] == "kodak"]
  if kodak:
    n = len(kodak)
    print(f"\nKodak mean over {n} image(s): encode {sum(r['encode_s'] for r in kodak) / n:.3f} s, "
          f"decode {sum(r['decode_s'] for r in kodak) / n:.3f} s, "
          f"{sum(r['bpp'] for r in kodak) / n:.4f} bpp, "
          f"max peak {max(r['peak_mb'] for r in kodak):.0f} MB")
  pairs = {}
  for r in rows:
    if r["group"] == "orders":
      pairs.setdefault(r["name"], {})[r["raster"]] = r
  for name, pair in pairs.items():
    if len(pair) == 2:
      wave, raster = pair[False], pair[True]
      print(f"raster / wavefront on {name}: steps {raster['steps'] / wave['steps']:.1f}x, "
            f"encode {raster['encode_s'] / wave['encode_s']:.1f}x, "
            f"decode {raster['decode_s'] / wave['decode_s']:.1f}x")
  tiling = {}
  for r in rows:
    if r["group"] == "tiling":
      tiling.setdefault(r["name"], {})[r["tiles"] == "off"] = r
  for name, pair in tiling.items():
    if len(pair) == 2:
      tiled, whole = pair[False], pair[True]
      print(f"tiled ({tiled['tiles']} px) / untiled on {name}: peak memory "
            f"{tiled['peak_mb'] / whole['peak_mb']:.2f}x, encode "
            f"{tiled['encode_s'] / whole['encode_s']:.2f}x, decode "
            f"{tiled['decode_s'] / whole['decode_s']:.2f}x, bpp "
            f"{100 * (tiled['bpp'] / whole['bpp'] - 1):+.2f} %, PSNR "
            f"{tiled['psnr'] - whole['psnr']:+.3f} dB")
  kodak_pairs = [pair for name, pair in tiling.items()
                 if len(pair) == 2 and name.startswith("kodim")]
  if kodak_pairs:
    total = lambda key, whole: sum(pair[whole][key] for pair in kodak_pairs)
    print(f"tiled / untiled over {len(kodak_pairs)} Kodak image(s): encode "
          f"{total('encode_s', False) / total('encode_s', True):.3f}x, decode "
          f"{total('decode_s', False) / total('decode_s', True):.3f}x")
  if not all(r["exact"] for r in rows):
    print("ERROR: some decodes differ from the encoder's reconstruction")
  if len({r["model_id"] for r in rows}) > 1:
    print("ERROR: the cases did not all use the same weights (model ids differ)")


def main(argv):
  del argv
  if FLAGS.child:
    child_process.print_result(measure(json.loads(FLAGS.child)))
    return 0
  source = model_source()
  print(f"model: {source}; quality {FLAGS.quality:g}; one process per row", flush=True)
  rows = []
  for case in cases(source):
    print(f"  {case['name']} ({'raster' if case['raster'] else 'wavefront'}) ...",
          file=sys.stderr, flush=True)
    rows.append(run_child(case))
    print("row " + json.dumps(rows[-1]), file=sys.stderr, flush=True)  # kept if stopped
  print_tables(rows)
  return 0 if all(r["exact"] for r in rows) else 1


if __name__ == "__main__":
  app.run(main)

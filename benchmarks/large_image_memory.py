"""Peak memory of `compress` and of `decompress` of one large image, each on its own.

  python benchmarks/large_image_memory.py                          # shipped model, 3840x2160
  python benchmarks/large_image_memory.py --saved_model            # its SavedModel's graphs
  python benchmarks/large_image_memory.py --model /tmp/export --size 4320x7680
  python benchmarks/large_image_memory.py --weights saved_models/nlaic_small/variables/variables

The model is loaded as `nlaic` loads it (`zoo.load_codec`: built by this
checkout's code from the export's weights); `--saved_model` runs the
SavedModel's own graphs instead (what TF Serving runs); `--weights` (with
`--config`) builds the codec from a checkpoint. The image is the Kodak
mosaic of `coding_speed.py` (landscape Kodak images tiled in file order,
`child_process.large_image`).
The model is loaded and warmed up on a 64x64 image, then the peak resident memory (VmHWM, reset through /proc/self/clear_refs
before each call, so Linux only) is printed after loading, after `compress`
and after `decompress`, with each call's time, the file size and the PSNR.
`coding_speed.py` reports one peak for a whole process instead.
"""
from absl import app, flags

import child_process

FLAGS = flags.FLAGS
child_process.define_model_flags()
flags.DEFINE_string("size", "2160x3840", "HEIGHTxWIDTH of the mosaic.")


def main(argv):
  del argv
  import numpy as np
  if FLAGS.threads:
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(FLAGS.threads)
  height, width = map(int, FLAGS.size.split("x"))
  image = child_process.large_image(height, width, FLAGS.kodak_dir)
  from nlaic_tf import metrics, zoo
  if FLAGS.weights:
    model_dir = f"{FLAGS.weights} (configuration {FLAGS.config}, built in Python)"
    codec = zoo.build_codec(FLAGS.config, FLAGS.weights)
  else:
    model_dir = FLAGS.model or zoo.model_dir()
    codec = zoo.load_codec(model_dir, saved_model=FLAGS.saved_model)
    if FLAGS.saved_model:
      model_dir += " (the SavedModel's graphs)"
  quality = np.float32(FLAGS.quality)
  codec.decompress(codec.compress(image[:64, :64], quality))
  print(f"model {model_dir}, {width}x{height}, quality {FLAGS.quality:g}")
  print(f"loaded and warmed up: {child_process.status_mb()} MB peak")
  data, seconds, peak = child_process.timed_call(codec.compress, image, quality)
  print(f"compress:   {peak} MB peak, {seconds:.1f} s, {len(data)} bytes, "
        f"{metrics.bpp(len(data), height, width):.4f} bpp")
  decoded, seconds, peak = child_process.timed_call(codec.decompress, data)
  print(f"decompress: {peak} MB peak, {seconds:.1f} s, PSNR "
        f"{metrics.psnr(image, decoded):.3f} dB")


if __name__ == "__main__":
  app.run(main)

"""NLAICCodec: real compression with a trained NLAIC model (tf.Module, exportable).

compress:          image uint8 [H, W, 3], quality float32 [] -> container bytes (scalar string)
compress_refined:  the same with `steps` int32 [] of encoder-side latent
                   refinement (`nlaic_tf.models.refinement`): slower, smaller
                   loss, an ordinary bitstream
decompress:        container bytes -> image uint8 [H, W, 3]

Images of any size are edge-padded to a multiple of 64 and cropped after
decoding. z is coded with the factorized prior's tables, y element by element
in wavefront order (see `nlaic_tf.entropy.wavefront`), by one loop shared by
encoder and decoder; the range-coding tables are variables, so a SavedModel
carries exactly the tables both sides use. The file carries a CRC-32C of y's
scale-table indexes and symbols, which the decoder compares with its own:
a decoder that computes the entropy parameters differently from the encoder
fails with "nlaic bitstream: decoded symbols differ ..." instead of returning
a wrong image. Models whose configuration allows it (`supports_integer`)
compute the entropy parameters in exact integer arithmetic
(`nlaic_tf.entropy.integer`), so that their files decode identically on every
machine; others, and files written before, use the float networks.
"""
import hashlib

import numpy as np
import tensorflow as tf
import tensorflow_compression as tfc

from nlaic_tf.bitstream import container
from nlaic_tf.bitstream.format import FLAG_INTEGER, message
from nlaic_tf.entropy import WavefrontSchedule, code_latents
from nlaic_tf.entropy.integer import IntegerParameters, supports_integer
from nlaic_tf.entropy.parameters import FloatParameters
from nlaic_tf.entropy.stream_guard import GuardedDecoder
from nlaic_tf.models.refinement import refine_latents, step_size
from nlaic_tf.transforms.tiling import DEFAULT_TILE_PIXELS, TiledTransform

PAD_MULTIPLE = 64
# The codec's tf.functions (and the exporter's and trainer's) are traced without
# AutoGraph: their Python `if`/`for` run on Python values only, and tensor
# control flow is written with tf.while_loop/tf.cond, so converting the source
# of every layer call would only double the tracing time (measured: about half
# of a first compress or decompress of the tiny model).
# Inputs of the codec's tf.functions and of the exported signatures.
IMAGE_SPEC = tf.TensorSpec([None, None, 3], tf.uint8, name="image")
QUALITY_SPEC = tf.TensorSpec([], tf.float32, name="quality")
BITSTREAM_SPEC = tf.TensorSpec([], tf.string, name="bitstream")
STEPS_SPEC = tf.TensorSpec([], tf.int32, name="steps")


def weights_id(model):
  """First 8 bytes of SHA-256 over the model's weights: shapes and values in
  creation order.

  Variable names are left out: Keras scopes them differently from one process
  to another (`nlaic/analysis/down2/kernel:0` or `down2/kernel:0`, `nlaic_1/...`
  for a second model), which must not change the identifier.
  """
  digest = hashlib.sha256()
  for weight in model.weights:
    value = np.ascontiguousarray(weight.numpy())
    digest.update(np.asarray(value.shape, np.int64).tobytes())
    digest.update(value.tobytes())
  return digest.digest()[:8]


def _edge_pad(x, multiple):
  """[1, H, W, C] -> [1, H', W', C], H' and W' rounded up, edges replicated."""
  shape = tf.shape(x)
  rows = tf.minimum(tf.range((shape[1] + multiple - 1) // multiple * multiple),
                    shape[1] - 1)
  cols = tf.minimum(tf.range((shape[2] + multiple - 1) // multiple * multiple),
                    shape[2] - 1)
  return tf.gather(tf.gather(x, rows, axis=1), cols, axis=2)


class NLAICCodec(tf.Module):
  """Encoder and decoder around a trained `NLAIC` model.

  integer: compute the entropy parameters in integers (None: whenever
  `supports_integer(model.config)`), or an `IntegerParameters` of `model` to
  use. Decoding follows the file's flag.
  tile_pixels: run the analysis and synthesis transforms in tiles of about
  this many image pixels square (`nlaic_tf.transforms.tiling`), so that memory
  grows with the tile, not the image, with the untiled result up to float
  rounding; images up to two tiles each way run untiled. 0: never tile.
  tables: None builds the range-coding tables from the model's priors; the
  prefix of a checkpoint that holds a codec's tables (an export's
  `variables/variables`) reads them from there instead, so that every user
  of an export codes with the same tables and the side model's tables are
  not computed (about a second: `NLAIC.side_entropy_model`).
  """

  def __init__(self, model, raster=False, integer=None,
               tile_pixels=DEFAULT_TILE_PIXELS, tables=None, name="nlaic_codec"):
    super().__init__(name=name)
    self.model = model
    self.raster = bool(raster)
    self.analysis = TiledTransform(model.analysis, tile_pixels, input_pixels=1)
    self.synthesis = TiledTransform(model.synthesis, tile_pixels, input_pixels=16)
    self.latent_model = model.scale_table.entropy_model()
    if tables is None:
      self.side_model = model.side_entropy_model(compression=True)
    else:
      shapes = tf.train.load_checkpoint(tables).get_variable_to_shape_map()
      self.side_model = model.side_entropy_model(cdf_shapes=[
          shapes[f"side_model/{name}/.ATTRIBUTES/VARIABLE_VALUE"][0]
          for name in ("_cdf", "_cdf_offset")])
      tf.train.Checkpoint(side_model=self.side_model,
                          latent_model=self.latent_model).read(
                              tables).expect_partial().assert_existing_objects_matched()
    if integer is None:
      integer = supports_integer(model.config)
    self.float_parameters = FloatParameters(model)
    if integer and not isinstance(integer, IntegerParameters):
      integer = IntegerParameters(model)
    self.integer_parameters = integer or None
    self.parameters = self.integer_parameters or self.float_parameters
    self.model_id = tf.Variable(weights_id(model), trainable=False,
                                name="model_id")
    self.config_json = tf.Variable(model.config.to_json(), trainable=False,
                                   name="config_json")

  # tf.functions that a SavedModel leaves out: no signature runs them (encode
  # and encode_refined also return the latents and reconstruction, for
  # Python-side checks; the untiled twins are the Python API's fast path),
  # and every function graph a SavedModel holds costs memory at each load.
  # `decode` stays: `decompress` runs it.
  PYTHON_ONLY = ("encode", "encode_refined", "compress_untiled",
                 "decompress_untiled")

  def _trackable_children(self, save_type="checkpoint", **kwargs):
    children = super()._trackable_children(save_type, **kwargs)
    if save_type == "savedmodel":
      for name in self.PYTHON_ONLY:
        children.pop(name, None)
    return children

  @property
  def num_levels(self):
    return self.model.config.num_levels

  def _schedule(self, shape):
    return WavefrontSchedule(self.model.config.context_kernel, shape[3],
                             shape[1], shape[2], raster=self.raster)

  def _synthesize(self, y_flat, y_shape, quality, height, width, untiled=False):
    """Latents in (c, h, w) raster order -> uint8 [height, width, 3]."""
    y_hat = tf.transpose(tf.reshape(y_flat, [y_shape[3], y_shape[1], y_shape[2]]),
                         [1, 2, 0])[None]
    q = tf.reshape(quality, [1])
    x_hat = self.synthesis(
        y_hat / self.model.gains(q), q, dtype=tf.uint8,
        finish=lambda x: tf.cast(tf.round(tf.clip_by_value(x, 0., 1.) * 255.),
                                 tf.uint8), untiled=untiled)
    return x_hat[0, :height, :width, :]

  def _analyze(self, image, quality, untiled=False):
    """uint8 [H, W, 3] -> y [1, H'/16, W'/16, M] (scaled by the gains), H' and
    W' padded to multiples of PAD_MULTIPLE. Pixels become floats tile by tile."""
    ys = self.analysis(_edge_pad(image[None], PAD_MULTIPLE),
                       tf.reshape(quality, [1]),
                       prepare=lambda x: tf.cast(x, tf.float32) / 255.,
                       untiled=untiled)
    return ys * self._gains(quality)

  def _gains(self, quality):
    return self.model.gains(tf.reshape(quality, [1]))

  @tf.function(autograph=False, input_signature=[IMAGE_SPEC, QUALITY_SPEC])
  def encode(self, image, quality):
    """-> (bitstream, y_hat [M*h*w] in coding raster order, reconstruction uint8)."""
    return self._encode(image, quality, None, reconstruct=True)

  @tf.function(autograph=False, input_signature=[IMAGE_SPEC, QUALITY_SPEC, STEPS_SPEC])
  def encode_refined(self, image, quality, steps):
    """`encode` with `steps` of latent refinement (the result of 0 equals `encode`'s)."""
    return self._encode(image, quality, steps, reconstruct=True)

  def _encode(self, image, quality, refine_steps, reconstruct, untiled=False):
    """-> bitstream, and with `reconstruct` also y_hat and the decoder's image
    (a whole synthesis, which `compress` does not run); `untiled`: the
    transforms without tiling loops (for images that `fits_untiled`)."""
    shape = tf.shape(image)
    levels = float(self.num_levels - 1)
    check = tf.debugging.Assert(
        tf.logical_and(quality >= 0., quality <= levels),
        [f"quality must be in [0, {levels:g}] (the model's rate levels)"])
    with tf.control_dependencies([check]):
      quality = tf.identity(quality)
    ys = self._analyze(image, quality, untiled)
    if refine_steps is not None:
      ys, _ = refine_latents(self.model, tf.cast(image, tf.float32)[None] / 255.,
                             ys, self._gains(quality), quality, refine_steps,
                             step_size(quality, self.num_levels))
    y_shape = tf.shape(ys)
    z = self.model.hyper_analysis(ys)
    z_string = self.side_model.compress(z)
    z_hat = self.side_model.decompress(z_string, tf.shape(z)[1:3])
    y_flat = tf.reshape(tf.transpose(ys[0], [2, 0, 1]), [-1])
    cdf_offset = self.latent_model.cdf_offset

    def encode_step(handle, indexes, mu, positions):
      y = tf.cast(tf.gather(y_flat, positions), mu.dtype)
      symbols = tf.cast(tf.round(y - mu), tf.int32)
      handle = tfc.entropy_encode_index(
          handle, indexes, symbols - tf.gather(cdf_offset, indexes))
      return handle, symbols

    handle = tfc.create_range_encoder([], self.latent_model.cdf)
    parameters = self.parameters
    handle, y_hat, indexes, symbols = code_latents(
        parameters, self._schedule(y_shape), parameters.features(z_hat),
        encode_step, handle)
    y_string = tfc.entropy_encode_finalize(handle)
    data = container.pack(self.model_id, shape[0], shape[1], quality,
                          z_string[0], y_string,
                          FLAG_INTEGER if parameters.integer else 0,
                          container.symbols_check(indexes, symbols))
    if not reconstruct:
      return data
    return data, y_hat, self._synthesize(y_hat, y_shape, quality, shape[0],
                                         shape[1])

  @tf.function(autograph=False, input_signature=[BITSTREAM_SPEC])
  def decode(self, bitstream):
    """-> (image uint8 [H, W, 3], y_hat [M*h*w] in coding raster order);
    see `_decode`."""
    return self._decode(bitstream)

  def _decode(self, bitstream, untiled=False, integer=None):
    """-> (image uint8 [H, W, 3], y_hat [M*h*w] in coding raster order).

    integer: None decodes files of either entropy path (a `tf.cond` on the
    file's flag); True or False (the file's `Header.flags`, read in Python)
    builds only that path, and refuses a file of the other.

    Both streams are read by `GuardedDecoder`s: a header whose image size
    cannot fit in the streams is refused before any decoding, z is checked
    before any work on y, y after every wavefront step, and both must be
    read to their end (see `nlaic_tf.entropy.stream_guard`). Version-2 files
    also carry a check of y's scale indexes and symbols, which the decoder
    must reproduce (see docs/portability.md).
    """
    height, width, quality, z_string, y_string, flags, stored_check = (
        container.unpack(bitstream, self.model_id, self.num_levels))
    padded = (tf.stack([height, width]) + PAD_MULTIPLE - 1) // PAD_MULTIPLE * PAD_MULTIPLE
    m = self.model.config.latent_channels
    n = tf.size(self.side_model.cdf_offset)
    z_stream = GuardedDecoder(self.side_model.cdf, z_string, "z")
    y_stream = GuardedDecoder(self.latent_model.cdf, y_string, "y")
    claims = [z_stream.check_claim(tf.reduce_prod(padded // 64) * n),
              y_stream.check_claim(tf.reduce_prod(padded // 16) * m)]
    with tf.control_dependencies(claims):
      padded = tf.identity(padded)
    z_hat, z_state = self._decode_z(z_stream, padded // 64)
    with tf.control_dependencies([z_stream.finish(z_state)]):
      z_hat = tf.identity(z_hat)
      y_shape = tf.concat([[1], padded // 16, [m]], 0)
    schedule = self._schedule(y_shape)
    cdf_offset = self.latent_model.cdf_offset

    def decode_step(state, indexes, mu, positions):
      del mu, positions
      state, values = y_stream.decode(state, indexes)
      return state, values + tf.gather(cdf_offset, indexes)

    def decode_latents(parameters):
      return code_latents(parameters, schedule, parameters.features(z_hat),
                          decode_step,
                          y_stream.start(schedule.max_count))

    file_integer = tf.equal(flags, FLAG_INTEGER)
    if self.integer_parameters is not None and integer is None:
      y_state, y_hat, indexes, symbols = tf.cond(
          file_integer, lambda: decode_latents(self.integer_parameters),
          lambda: decode_latents(self.float_parameters))
    else:
      if self.integer_parameters is None:
        integer, check = False, tf.debugging.Assert(
            tf.logical_not(file_integer), [message(
                "written with integer entropy parameters, which this model lacks")])
      else:
        check = tf.debugging.Assert(tf.equal(file_integer, bool(integer)), [
            message(f"not written with {'integer' if integer else 'float'} "
                    "entropy parameters, as the caller said")])
      with tf.control_dependencies([check]):
        y_state, y_hat, indexes, symbols = decode_latents(
            self.integer_parameters if integer else self.float_parameters)
    # Version 2 files passed the CRC, so a disagreement here is the decoder's.
    same = tf.logical_or(
        tf.equal(stored_check, -1),
        tf.equal(stored_check, container.symbols_check(indexes, symbols)))
    # The symbol check goes first: a disagreeing decoder usually also leaves
    # data unread, and the symbol check names the cause.
    check = tf.debugging.Assert(same, [message(
        "decoded symbols differ from the encoded ones: this decoder computed "
        "different entropy parameters than the encoder (see docs/portability.md)")])
    with tf.control_dependencies([check]):
      finished = y_stream.finish(y_state)
    with tf.control_dependencies([check, finished]):
      image = self._synthesize(y_hat, y_shape, quality, height, width,
                               untiled)
    return image, y_hat

  def _decode_z(self, stream, size):
    """z_hat [1, h, w, N] from a `GuardedDecoder`, one row per call (the
    symbol order of the side model's `compress`) -> (z_hat, final state)."""
    offset = self.side_model.cdf_offset
    indexes = tf.tile(tf.range(tf.size(offset)), [size[1]])

    def body(i, state, rows):
      state, values = stream.decode(state, indexes)
      return i + 1, state, rows.write(i, values)

    _, state, rows = tf.while_loop(
        lambda i, *_: i < size[0], body,
        (0, stream.start(tf.size(indexes)), tf.TensorArray(tf.int32, size=size[0])))
    symbols = tf.reshape(rows.stack(), [1, size[0], size[1], -1]) + offset
    return tf.cast(symbols, self.side_model.bottleneck_dtype), state

  @tf.function(autograph=False, input_signature=[IMAGE_SPEC, QUALITY_SPEC])
  def compress(self, image, quality):
    """image uint8 [H, W, 3], quality float32 [] -> container bytes (string [])."""
    return self._encode(image, quality, None, reconstruct=False)

  @tf.function(autograph=False, input_signature=[IMAGE_SPEC, QUALITY_SPEC, STEPS_SPEC])
  def compress_refined(self, image, quality, steps):
    """`compress` after `steps` (int32 []) of encoder-side latent refinement."""
    return self._encode(image, quality, steps, reconstruct=False)

  @tf.function(autograph=False, input_signature=[BITSTREAM_SPEC])
  def decompress(self, bitstream):
    """container bytes (string []) -> image uint8 [H, W, 3]."""
    return self.decode(bitstream)[0]

  def fits_untiled(self, height, width):
    """Whether an image of height x width pixels runs through both
    transforms untiled (`TiledTransform.fits_untiled`): then
    `compress_untiled` and `decompress_untiled` give what `compress` and
    `decompress` give."""
    padded = [-(-n // PAD_MULTIPLE) * PAD_MULTIPLE for n in (height, width)]
    return (self.analysis.fits_untiled(*padded) and
            self.synthesis.fits_untiled(*(n // 16 for n in padded)))

  # Twins of compress and decompress for images that `fits_untiled`: the
  # same files and pixels from graphs without the tiling loops, which trace
  # and start faster (about 1.3 s less per function for a Kodak image with
  # medium-rc, docs/benchmarks.md). `nlaic_tf.compress` and `decompress`
  # pick them; SavedModels leave them out (PYTHON_ONLY).
  @tf.function(autograph=False, input_signature=[IMAGE_SPEC, QUALITY_SPEC])
  def compress_untiled(self, image, quality):
    """`compress` for an image that `fits_untiled`."""
    return self._encode(image, quality, None, reconstruct=False, untiled=True)

  # Its Python `integer` (the file's flag) keys the trace, so a process that
  # decodes one kind of file builds one entropy path (no input_signature: the
  # bitstream is always a string scalar, so it traces once per path).
  @tf.function(autograph=False)
  def decompress_untiled(self, bitstream, integer):
    """`decompress` for a file whose image `fits_untiled` and whose header
    says `integer` (bool: `Header.flags & FLAG_INTEGER`)."""
    return self._decode(bitstream, untiled=True, integer=integer)[0]

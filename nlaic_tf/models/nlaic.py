"""The NLAIC model: transforms, variable-rate gains and the entropy models, for training."""
import contextlib

import tensorflow as tf
import tensorflow_compression as tfc

from nlaic_tf import transforms
from nlaic_tf.entropy import ContextModel, ScaleTable, gaussian_bits
from nlaic_tf.models.config import ModelConfig
from nlaic_tf.models.losses import RateDistortionLoss
from nlaic_tf.models.rate_levels import RateGains


def per_example_uniform(seeds, stream, shape, minval, maxval, dtype=tf.float32):
  """Stateless uniform draws, one set per example: seeds [B, 2] int ->
  [B, *shape], example i's draws a function of (seeds[i], stream) only (so
  the same whatever batch or device the example is on; other `stream`
  numbers give independent draws)."""
  return tf.map_fn(
      lambda seed: tf.random.stateless_uniform(
          shape, tf.random.experimental.stateless_fold_in(seed, stream),
          minval, maxval, dtype),
      seeds, fn_output_signature=dtype)


@contextlib.contextmanager
def _global_policy(name):
  """Layers created inside take the Keras dtype policy `name`."""
  previous = tf.keras.mixed_precision.global_policy()
  tf.keras.mixed_precision.set_global_policy(name)
  try:
    yield
  finally:
    tf.keras.mixed_precision.set_global_policy(previous)


@tf.keras.utils.register_keras_serializable(package="nlaic")
class NLAIC(tf.keras.Model):
  """Variable-rate NLAIC.

  x [B, H, W, 3] in [0, 1], H and W multiples of 64 ->
  y = analysis(x) [B, H/16, W/16, M]; ys = y * gain(q);
  z = hyper_analysis(ys) [B, H/64, W/64, N2] with a factorized prior;
  (mu, sigma) of ys from a 3D masked context over ys fused with
  hyper_synthesis(z); x_hat = synthesis(ys_hat / gain(q)).

  `rd_step` draws a rate level per example and minimises the objective
  `rd_loss` (`RateDistortionLoss` of the config's distortion and lambdas):
  lambda_level * D + (bits_y + bits_z) / pixels, each example weighted by
  its level's weight for `level_balance`.

  `precision` is the Keras dtype policy of the four transforms (with their
  NLAMs): "float32", "mixed_bfloat16" or "mixed_float16". Their variables
  stay float32 and they return float32 (`transforms.float32_output`), so the gains, the
  context model, the likelihoods, rate and distortion are float32 in every
  precision, and the weights are the same whatever precision trained them.
  """

  def __init__(self, config: ModelConfig, grad_clip=5., level_balance=0.,
               precision="float32", **kwargs):
    super().__init__(**kwargs)
    self.config = config
    self.grad_clip = grad_clip
    self.rd_loss = RateDistortionLoss.for_config(config, level_balance)
    self.precision = precision
    with _global_policy(precision):
      self.analysis = transforms.analysis_transform(config)
      self.synthesis = transforms.synthesis_transform(config)
      self.hyper_analysis = transforms.hyper_analysis(config)
      self.hyper_synthesis = transforms.hyper_synthesis(config)
    self.context = ContextModel(
        config.context_filters, config.context_kernel, config.hyper_features,
        config.context_hidden, name="context")
    self.gains = RateGains(config.lambdas, config.latent_channels, name="gains")
    self.hyperprior = tfc.NoisyDeepFactorized(
        batch_shape=[config.hyper_latent_channels])
    self.scale_table = ScaleTable(config.num_scales, config.scale_min,
                                  config.scale_max)

  def analyze(self, x, quality):
    """x [B, H, W, 3] in [0, 1], quality [B] -> y [B, H/16, W/16, M] (before
    the gains), float32."""
    return transforms.apply(self.analysis, tf.convert_to_tensor(x, tf.float32),
                            quality)

  def synthesize(self, y_hat, quality):
    """y_hat [B, h, w, M] (after dividing by the gains), quality [B] ->
    x_hat [B, 16h, 16w, 3] (unclipped), float32."""
    return transforms.apply(self.synthesis, y_hat, quality)

  def ceiling_psnr(self, x, quality, y=None):
    """PSNR in dB [B] of x [B, H, W, 3] in [0, 1] through the transforms
    alone, synthesize(analyze(x, q), q) without quantization (the gains
    cancel): the level's PSNR approaches it as the quantization step shrinks,
    so a level close to it is limited by the transforms, not the entropy
    model. y: `analyze(x, quality)` if the caller has it already."""
    if y is None:
      y = self.analyze(x, quality)
    x_hat = self.synthesize(y, quality)
    return tf.image.psnr(x, tf.clip_by_value(x_hat, 0., 1.), max_val=1.)

  def side_entropy_model(self, compression=False, cdf_shapes=None):
    """Factorized entropy model of z (tables built from weights if compression).

    cdf_shapes: (size of cdf, size of cdf_offset) to create empty range-coding
    tables instead, to be read from a checkpoint (building them from the
    prior takes about a second, `_side_tables`). z is quantized by plain
    rounding (no offset heuristic) in every mode.
    """
    if not compression and cdf_shapes is None:
      return tfc.ContinuousBatchedEntropyModel(
          self.hyperprior, coding_rank=3, offset_heuristic=False)
    tables = (dict(cdf_shapes=cdf_shapes, quantization_offset=False)
              if cdf_shapes is not None else
              dict(zip(("cdf", "cdf_offset"), self._side_tables())))
    return tfc.ContinuousBatchedEntropyModel(
        prior_shape=self.hyperprior.batch_shape, coding_rank=3,
        compression=True, offset_heuristic=False, bottleneck_dtype=tf.float32,
        **tables)

  def _side_tables(self):
    """The side model's range-coding tables (cdf, cdf_offset), as tfc builds
    them from the prior, computed in a graph: tfc's tail estimation is a loop
    of Adam steps, which runs op by op when eager (measured: 7 s for
    medium-rc's prior and 17 s for a randomly initialised tiny one, against
    under 1 s traced, with identical tables for every shipped model)."""
    def build():
      model = tfc.ContinuousBatchedEntropyModel(
          self.hyperprior, coding_rank=3, compression=True,
          offset_heuristic=False, stateless=True)
      return model.cdf, model.cdf_offset
    return tf.function(build, autograph=False)()

  def call(self, x, quality, training=False, seeds=None):
    """x [B, H, W, 3], quality [B] -> dict of x_hat, bits_y [B],
    channel_bits_y [B, M] (bits_y per latent channel), bits_z [B].

    training=True: uniform noise for the rates and the context, straight-
    through rounding (around the predicted mean) for the synthesis input.
    training=False: rounding throughout; bits are the ideal code lengths of
    the quantized latents (context inputs rounded without the mean shift, so
    an estimate of what `NLAICCodec` writes, not its exact size).
    """
    gains = self.gains(quality)
    return self.from_latents(self.analyze(x, quality) * gains, gains, quality,
                             training=training, seeds=seeds)

  def from_latents(self, ys, gains, quality, training=False, noise=None,
                   seeds=None):
    """`call` from the scaled latents ys = analyze(x, quality) * gains [B, h, w, M].

    gains [B, 1, 1, M] as `self.gains(quality)` returns them, quality [B].
    noise (training only):
    the uniform noise on ys, default drawn from U(-1/2, 1/2); when given, z
    is rounded (straight-through) instead of noised, so that the result is a
    deterministic function of ys and noise (encoder-side refinement).
    seeds [B, 2] int (training only, without noise): the noise on z and ys
    drawn per example from them (`per_example_uniform`) instead of by
    stateful ops.
    """
    z = self.hyper_analysis(ys)
    if training and seeds is not None:
      z_hat = z + per_example_uniform(seeds, 1, tf.shape(z)[1:], -.5, .5)
      # What the entropy model's training mode computes for this noise.
      bits_z = tf.reduce_sum(self.hyperprior.log_prob(z_hat), [1, 2, 3]) / -tf.math.log(2.)
      noise = per_example_uniform(seeds, 2, tf.shape(ys)[1:], -.5, .5)
    else:
      z_hat, bits_z = self.side_entropy_model()(
          z, training=training and noise is None)
    hyper = self.hyper_synthesis(z_hat)
    if training:
      if noise is None:
        noise = tf.random.uniform(tf.shape(ys), -.5, .5)
      y_context = ys + noise
    else:
      y_context = tf.round(ys)
    mu, sigma = self.context(y_context, hyper)
    sigma = self.scale_table.clip(sigma)
    y_hat = ys + tf.stop_gradient(tf.round(ys - mu) + mu - ys)
    y_rated = y_context if training else y_hat
    channel_bits_y = tf.reduce_sum(gaussian_bits(y_rated, mu, sigma), [1, 2])
    x_hat = self.synthesize(y_hat / gains, quality)
    return dict(x_hat=x_hat, bits_y=tf.reduce_sum(channel_bits_y, 1),
                channel_bits_y=channel_bits_y, bits_z=bits_z)

  def losses_per_example(self, x, quality, training, seeds=None):
    """The loss terms (`RateDistortionLoss.__call__`) of x [B, H, W, 3] through
    the model at quality [B]; each [B]. seeds: as for `from_latents`."""
    return self.rd_loss(x, self(x, quality, training=training, seeds=seeds),
                        quality)

  def validation_terms(self, x, quality):
    """`losses_per_example(x, quality, training=False)` and "ceiling"
    (`ceiling_psnr`), each [B], from one analysis of x."""
    y = self.analyze(x, quality)
    gains = self.gains(quality)
    terms = self.rd_loss(x, self.from_latents(y * gains, gains, quality), quality)
    terms["ceiling"] = self.ceiling_psnr(x, quality, y=y)
    return terms

  def train_step(self, x):
    """Keras `fit` entry point: one `rd_step` with the compiled optimizer."""
    return self.rd_step(x, self.optimizer)

  def rd_step(self, x, optimizer, seeds=None):
    """One optimizer step on a batch x [B, H, W, 3]; returns mean loss terms.

    seeds [B, 2] int: each example's rate level and noise drawn from its seed
    (`per_example_uniform`), so that a step is the same on any number of
    devices; default: stateful draws.
    Under a tf.distribute strategy x is this replica's share of the global
    batch (B * replicas): the loss is summed over it and divided by the global
    batch, the gradients are summed across replicas before clipping, so the
    step is the one a single device takes on the global batch.
    With a `LossScaleOptimizer` (mixed_float16) the loss is scaled for the
    gradient and the gradients unscaled before clipping.
    """
    if seeds is None:
      levels = tf.random.uniform([tf.shape(x)[0]], 0, self.config.num_levels,
                                 dtype=tf.int32)
    else:
      levels = per_example_uniform(seeds, 0, [], 0, self.config.num_levels,
                                   tf.int32)
    replicas = tf.distribute.get_replica_context()
    scaling = isinstance(optimizer, tf.keras.mixed_precision.LossScaleOptimizer)
    with tf.GradientTape() as tape:
      terms = self.losses_per_example(x, levels, training=True, seeds=seeds)
      global_batch = tf.cast(tf.shape(x)[0] * replicas.num_replicas_in_sync,
                             tf.float32)
      loss = tf.reduce_sum(
          self.rd_loss.weigh_levels(terms["loss"], levels)) / global_batch
      if scaling:  # float16: scaled so that small gradients do not underflow
        loss = optimizer.get_scaled_loss(loss)
    variables = self.trainable_variables
    grads = tape.gradient(loss, variables)
    if replicas.num_replicas_in_sync > 1:
      grads = replicas.all_reduce(  # dense: the gains' gradient is sparse
          tf.distribute.ReduceOp.SUM, [tf.convert_to_tensor(g) for g in grads])
    if scaling:
      grads = optimizer.get_unscaled_gradients(grads)
    if self.grad_clip:
      grads, _ = tf.clip_by_global_norm(grads, self.grad_clip)
    optimizer.apply_gradients(zip(grads, variables),
                              skip_gradients_aggregation=True)
    return {k: tf.reduce_mean(v) for k, v in terms.items()}

  def get_config(self):
    return dict(config=self.config.to_json(), grad_clip=self.grad_clip,
                level_balance=self.rd_loss.level_balance, precision=self.precision)

  @classmethod
  def from_config(cls, config):
    config = dict(config)
    config["config"] = ModelConfig.from_json(config["config"])
    return cls(**config)

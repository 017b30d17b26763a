"""Entropy parameters for coding: what decides each latent's coding distribution.

A parameters object gives the coding loop (`wavefront.code_latents`) what it
needs, the same for encoder and decoder:
  offsets         int32 [taps, 3], the causal (dc, dh, dw) neighbourhood;
  kernel_size     of the 3D context;
  dtype           of the latent volume the context reads;
  features(z_hat) z_hat [1, h/4, w/4, N2] -> hyperprior features [M*h*w, K]
                  in (channel, row, column) order;
  prepare()       per-image constants for `__call__` (the context kernel);
  __call__(patches [n, taps], features [n, K], prepared)
                  -> (scale-table indexes int32 [n], mu [n] of `dtype`).

`FloatParameters` evaluates the trained float networks with TensorFlow's
kernels: results may differ in the last bits between machines and builds.
`nlaic_tf.entropy.integer.IntegerParameters` computes the same in exact
integer arithmetic.
"""
import tensorflow as tf


def feature_rows(hyper, config):
  """[1, h, w, M*K] -> [M*h*w, K] in (channel, row, column) order."""
  shape = tf.shape(hyper)
  k, m = config.hyper_features, config.latent_channels
  hyper = tf.reshape(hyper, [shape[1], shape[2], m, k])
  return tf.reshape(tf.transpose(hyper, [2, 0, 1, 3]), [-1, k])


class FloatParameters:
  """The model's float hyper synthesis, context model and scale table."""

  integer = False
  dtype = tf.float32

  def __init__(self, model):
    self.model = model
    self.offsets = model.context.offsets
    self.kernel_size = model.config.context_kernel

  def features(self, z_hat):
    return feature_rows(self.model.hyper_synthesis(z_hat), self.model.config)

  def prepare(self):
    return self.model.context.masked_conv.causal_matrix()

  def __call__(self, patches, features, kernel):
    mu, sigma = self.model.context.params_from_patches(patches, features, kernel)
    return self.model.scale_table.index(sigma), mu

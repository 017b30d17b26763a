"""Conditional entropy model of y: 3D masked context fused with hyperprior features."""
import tensorflow as tf

from nlaic_tf.layers import MaskedConv3D


@tf.keras.utils.register_keras_serializable(package="nlaic")
class ContextModel(tf.keras.layers.Layer):
  """Predicts (mu, sigma) of every latent element from its causal 3D context.

  Features of element (c, h, w): a type-A masked k x k x k convolution over
  the volume y[c, h, w] (`filters` features), concatenated with
  `hyper_features` hyperprior features of that element; a pointwise MLP
  (`hidden` widths, ReLU) maps them to mu and sigma.

  Two entry points share the weights:
  - `call`: all elements at once with a full masked convolution (training).
  - `params_from_patches`: chosen elements from gathered neighbourhoods (coding).
  """

  def __init__(self, filters=24, kernel_size=5, hyper_features=2,
               hidden=(48, 96), **kwargs):
    super().__init__(**kwargs)
    self.filters = int(filters)
    self.kernel_size = int(kernel_size)
    self.hyper_features = int(hyper_features)
    self.hidden = tuple(int(h) for h in hidden)
    self.masked_conv = MaskedConv3D(self.filters, self.kernel_size, "A",
                                    name="masked_conv")
    self.mlp = [tf.keras.layers.Dense(h, activation="relu", name=f"mlp_{i}")
                for i, h in enumerate(self.hidden)]
    self.mlp.append(tf.keras.layers.Dense(2, name="mlp_out"))

  @property
  def offsets(self):
    """int32 [taps, 3]: causal (dc, dh, dw) neighbourhood of an element."""
    return self.masked_conv.offsets

  def _head(self, features):
    """[..., filters + hyper_features] -> mu, sigma [...] (sigma > 0, unbounded)."""
    for layer in self.mlp:
      features = layer(features)
    mu, raw_scale = tf.unstack(features, axis=-1)
    return mu, tf.math.softplus(raw_scale)

  def call(self, y, hyper):
    """y [B, h, w, C], hyper [B, h, w, C * K] -> mu, sigma [B, h, w, C]."""
    shape = tf.shape(y)
    channels = y.shape[-1]
    volume = tf.transpose(y, [0, 3, 1, 2])[..., None]
    context = self.masked_conv(volume)
    hyper = tf.reshape(hyper, [shape[0], shape[1], shape[2], channels,
                               self.hyper_features])
    hyper = tf.transpose(hyper, [0, 3, 1, 2, 4])
    mu, sigma = self._head(tf.concat([context, hyper], -1))
    return tf.transpose(mu, [0, 2, 3, 1]), tf.transpose(sigma, [0, 2, 3, 1])

  def params_from_patches(self, patches, hyper, kernel):
    """patches [n, taps] (values at `offsets`), hyper [n, K] -> mu, sigma [n].

    `kernel` is `masked_conv.causal_matrix()`, computed once per image.
    """
    if len(self.offsets):
      context = tf.matmul(patches, kernel) + self.masked_conv.bias
    else:  # no causal taps (kernel_size 1); oneDNN rejects empty matmuls
      context = tf.zeros([tf.shape(hyper)[0], self.filters]) + self.masked_conv.bias
    return self._head(tf.concat([context, hyper], -1))

  def get_config(self):
    return dict(super().get_config(), filters=self.filters,
                kernel_size=self.kernel_size,
                hyper_features=self.hyper_features, hidden=self.hidden)

"""Residual block: conv3x3 -> ReLU -> conv3x3, plus identity."""
import tensorflow as tf


@tf.keras.utils.register_keras_serializable(package="nlaic")
class ResidualBlock(tf.keras.layers.Layer):
  """`x + conv(relu(conv(x)))`; no activation after the addition.

  Input and output: [B, H, W, C] with C == `filters`.
  """

  def __init__(self, filters, kernel_size=3, **kwargs):
    super().__init__(**kwargs)
    self.filters = int(filters)
    self.kernel_size = int(kernel_size)
    self.conv1 = tf.keras.layers.Conv2D(
        self.filters, self.kernel_size, padding="same", activation="relu",
        name="conv1")
    self.conv2 = tf.keras.layers.Conv2D(
        self.filters, self.kernel_size, padding="same", name="conv2")

  def call(self, x):
    return x + self.conv2(self.conv1(x))

  def get_config(self):
    return dict(super().get_config(), filters=self.filters,
                kernel_size=self.kernel_size)

"""Encoder-side latent refinement: a slower encoder, the same decoder and format.

The analysis transform maps an image to its latents in one pass, a learned
approximation of the latents that minimise the rate-distortion loss. The
encoder can get closer by optimising the scaled latents ys of the one image
it codes: Adam on the training objective (uniform noise for the rates,
straight-through rounding for the synthesis), every iterate scored with
rounding (the test-time estimate of `NLAIC.call`), the best one kept. z is
recomputed from ys, so the hyperprior follows. The decoder is unchanged: a
refined bitstream is an ordinary one.
"""
import tensorflow as tf

ADAM_BETAS = (0.9, 0.999)
ADAM_EPSILON = 1e-8
NOISE_SEED = 2021
# Adam step size in quantization bins: BASE_STEP_SIZE up to the third-highest
# level, doubled per level above it (measured on bsds500/val for the shipped
# 8-level model: 0.005 best at levels 0-5, 0.01 at 6, 0.02 at 7).
BASE_STEP_SIZE = 0.005


def step_size(quality, num_levels):
  """float32 [] Adam step size, in quantization bins, for rate level `quality`
  (float32 []) of a model with `num_levels` levels:
  BASE_STEP_SIZE * 2^max(0, quality - (num_levels - 3)).
  """
  above = tf.maximum(0., tf.cast(quality, tf.float32) - float(num_levels - 3))
  return BASE_STEP_SIZE * tf.pow(2., above)


def refine_latents(model, x, ys, gains, quality, steps, learning_rate):
  """Scaled latents with a lower estimated loss for one image.

  Args:
    model: `NLAIC`.
    x: [1, H, W, 3] image in [0, 1] (unpadded: the loss scores these pixels).
    ys: [1, h, w, M] scaled latents to start from (analyze(padded x) * gains).
    gains: [1, 1, 1, M] gains of `quality`.
    quality: float32 [] rate level (fractional values interpolate lambda).
    steps: int32 [] Adam steps; 0 returns ys.
    learning_rate: float32 [], Adam step size in quantization bins (`step_size`).

  Returns:
    (ys [1, h, w, M], loss [1]): the iterate with the lowest rounded loss
    lambda * D + bpp (ys itself unless an iterate beats it). Deterministic:
    the noise is drawn from a fixed seed and the step number.
  """
  quality = tf.reshape(tf.cast(quality, tf.float32), [1])
  beta1, beta2 = ADAM_BETAS

  def loss(latents, training, noise=None):
    out = model.from_latents(latents, gains, quality, training=training,
                             noise=noise)
    return model.rd_loss(x, out, quality)["loss"]

  def body(step, latents, m, v, best, best_loss):
    noise = tf.random.stateless_uniform(tf.shape(latents), [NOISE_SEED, step],
                                        -.5, .5)
    with tf.GradientTape() as tape:
      tape.watch(latents)
      objective = tf.reduce_sum(loss(latents, True, noise))
    grad = tape.gradient(objective, latents)
    m = beta1 * m + (1. - beta1) * grad
    v = beta2 * v + (1. - beta2) * tf.square(grad)
    t = tf.cast(step + 1, tf.float32)
    m_hat = m / (1. - beta1 ** t)
    v_hat = v / (1. - beta2 ** t)
    latents = latents - learning_rate * m_hat / (tf.sqrt(v_hat) + ADAM_EPSILON)
    score = loss(latents, False)
    better = score[0] < best_loss[0]
    best = tf.where(better, latents, best)
    best_loss = tf.where(better, score, best_loss)
    return step + 1, latents, m, v, best, best_loss

  zeros = tf.zeros_like(ys)
  start = (tf.constant(0), ys, zeros, zeros, ys, loss(ys, False))
  result = tf.while_loop(lambda step, *_: step < steps, body, start)
  return result[4], result[5]

"""WeightAverage: the moving average's arithmetic, restart and swapping."""
import numpy as np
import pytest
import tensorflow as tf

from nlaic_tf.training.weight_average import WeightAverage


def test_average_follows_the_warmed_up_recursion():
  a, b = tf.Variable([1., 2.]), tf.Variable([[3.]])
  average = WeightAverage([a, b], decay=0.5)
  average.restart()
  expected = [np.array([1., 2.]), np.array([[3.]])]
  for n, (da, db) in enumerate([(1., -2.), (0.5, 4.), (-3., 1.), (2., 2.)]):
    a.assign_add([da, da])
    b.assign_add([[db]])
    average.update()
    decay = min(0.5, (1. + n) / (10. + n))  # 0.1, 0.18, 0.25, then 0.5 from n = 8 on
    expected = [decay * e + (1. - decay) * v.numpy() for e, v in zip(expected, (a, b))]
    for got, want in zip(average.averages, expected):
      np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
  assert int(average.updates) == 4
  average.restart()
  assert int(average.updates) == 0
  np.testing.assert_array_equal(average.averages[0].numpy(), a.numpy())


def test_swapped_in_holds_the_averages_and_gives_the_raw_weights_back():
  w = tf.Variable([1., 1.])
  average = WeightAverage([w], decay=0.9)
  average.averages[0].assign([5., 6.])
  with average.swapped_in():
    np.testing.assert_array_equal(w.numpy(), [5., 6.])
  np.testing.assert_array_equal(w.numpy(), [1., 1.])
  with pytest.raises(RuntimeError):
    with average.swapped_in():
      raise RuntimeError("a failing validation")
  np.testing.assert_array_equal(w.numpy(), [1., 1.])
  np.testing.assert_array_equal(average.averages[0].numpy(), [5., 6.])


def test_update_in_a_replica_context_under_mirrored_strategy():
  strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
  with strategy.scope():
    w = tf.Variable([2., 4.])
    average = WeightAverage([w], decay=0.5)
  average.restart()

  @tf.function
  def step():
    def replica():
      w.assign_add([1., 1.])
      average.update()  # reads the weight just written
    strategy.run(replica)
  step()
  np.testing.assert_allclose(average.averages[0].numpy(), [0.1 * 2 + 0.9 * 3, 0.1 * 4 + 0.9 * 5])
  assert average.updates.numpy() == 1


@pytest.mark.parametrize("decay", [0., 1., -0.5])
def test_decay_outside_the_open_unit_interval_is_refused(decay):
  with pytest.raises(ValueError, match="decay"):
    WeightAverage([tf.Variable(1.)], decay)

"""Evaluation: BD-rate, comparison codecs and the RD harness (the quality
metrics are `nlaic_tf.metrics`).

Submodules are imported on demand (`from nlaic_tf.evaluation import harness`);
none of them imports TensorFlow at import time.
"""

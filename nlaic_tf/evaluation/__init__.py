"""Evaluation: quality metrics, BD-rate, comparison codecs and the RD harness.

Submodules are imported on demand (`from nlaic_tf.evaluation import metrics`);
none of them imports TensorFlow at import time.
"""

"""Analysis/synthesis and hyper transforms built from a `ModelConfig`."""
from nlaic_tf.transforms.main import (analysis_transform, apply, apply_layers,
                                      synthesis_transform)
from nlaic_tf.transforms.hyper import hyper_analysis, hyper_synthesis

__all__ = ["analysis_transform", "apply", "apply_layers", "synthesis_transform", "hyper_analysis",
           "hyper_synthesis"]

"""Training and validation input pipelines."""
from nlaic_tf.data.datasets import (image_files, step_indexed_dataset,
                                    tfds_training_dataset, training_dataset,
                                    validation_dataset)

__all__ = ["image_files", "step_indexed_dataset", "tfds_training_dataset",
           "training_dataset", "validation_dataset"]

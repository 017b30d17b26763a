"""Training and validation input pipelines."""
from nlaic_tf.data.datasets import (RESIZE_FILTERS, CropScale, area_weighted,
                                    image_files, step_indexed_dataset,
                                    tfds_training_dataset, training_dataset,
                                    validation_dataset)

__all__ = ["RESIZE_FILTERS", "CropScale", "area_weighted", "image_files",
           "step_indexed_dataset", "tfds_training_dataset", "training_dataset",
           "validation_dataset"]

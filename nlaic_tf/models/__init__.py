"""NLAIC model, its configurations and the coding module built on it."""
from nlaic_tf.models.config import CONFIGS, ModelConfig, get_config
from nlaic_tf.models.nlaic import NLAIC
from nlaic_tf.models.rate_levels import RateGains

__all__ = ["CONFIGS", "ModelConfig", "get_config", "NLAIC", "RateGains"]

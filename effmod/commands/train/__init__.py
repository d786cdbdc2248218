"""Training and fine-tuning EfficientMod on ImageFolder data (``effmod train``)."""
from .loop import TrainConfig, evaluate, train

__all__ = ["TrainConfig", "evaluate", "train"]

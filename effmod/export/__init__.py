"""Deploy transforms and per-target exporters."""
from .folding import fold_batchnorm
from .reparameterize import reparameterize

__all__ = ["reparameterize", "fold_batchnorm"]

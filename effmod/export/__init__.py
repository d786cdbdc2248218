"""Deploy transforms and per-target exporters."""
from .folding import fold_batchnorm
from .reparameterize import DeployOptions, reparameterize

__all__ = ["reparameterize", "fold_batchnorm", "DeployOptions"]

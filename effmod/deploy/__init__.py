"""The deploy form: ``reparameterize(model)`` (a pure transform, as ml-mobileone's), the NCHW deploy
modules it builds, the folding helpers and graph statistics."""
from .folding import fold_batchnorm
from .reparameterize import DeployOptions, reparameterize

__all__ = ["reparameterize", "fold_batchnorm", "DeployOptions"]

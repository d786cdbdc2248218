"""Deprecated location: the deploy transforms moved to ``effmod.deploy`` and the export driver to
``effmod.commands.export``. ``from effmod.export import reparameterize`` keeps working."""
from ..deploy import DeployOptions, fold_batchnorm, reparameterize

__all__ = ["reparameterize", "fold_batchnorm", "DeployOptions"]

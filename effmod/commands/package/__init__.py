"""``effmod package``: fill the iOS / Android demo app templates (``apps/``) with an exported artifact."""
from .app_config import APPS, build_app_config, check_artifact_fits_app
from .project import package_app

__all__ = ["APPS", "build_app_config", "check_artifact_fits_app", "package_app"]

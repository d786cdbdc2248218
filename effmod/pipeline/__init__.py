"""The export pipeline as a library, below the commands: options and recipes (``options``), the inputs
every target shares (``inputs``), building an artifact (``build``), running and judging it
(``parity_check``), the manifest and the whole export (``export``), rebuilding from a manifest's recipe
(``rebuild``), re-validation (``validate``), block-by-block debugging (``blocks``, ``debug``) and latency
(``latency``, ``latency_adb``)."""
from .build import Built, build_artifact
from .debug import DebugReport, debug_artifact
from .export import build_manifest, export_one, run_export
from .inputs import ExportInputs, ValidationData, load_model, prepare_inputs, validation_data
from .options import ExportOptions, artifact_name, recipe_for, resolve_targets
from .parity_check import run_artifact, run_parity, simulated_reference
from .rebuild import recorded_calibration
from .validate import revalidate

__all__ = ["Built", "DebugReport", "ExportInputs", "ExportOptions", "ValidationData", "artifact_name", "build_artifact",
           "build_manifest", "debug_artifact", "export_one", "load_model", "prepare_inputs", "recipe_for",
           "recorded_calibration", "resolve_targets", "revalidate", "run_artifact", "run_export", "run_parity",
           "simulated_reference", "validation_data"]

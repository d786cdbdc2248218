"""What an INT8 export recorded in its manifest, read back to rebuild the same conversion: `effmod
validate` rebuilds the simulated quantized reference with it, `effmod debug` the block-tapped program."""
from __future__ import annotations

from pathlib import Path

from ..errors import EffmodError
from ..eval.data_config import DataConfig
from ..manifest import Manifest
from ..quantize import CalibrationSet, load_calibration


def recorded_keep_float(manifest: Manifest) -> list[str]:
    """Modules the export kept in float: --keep-float patterns and the blocks auto-fallback chose."""
    q = manifest.quantization or {}
    return [*q.get("keep_float", []), *((q.get("auto_fallback") or {}).get("kept_float", []))]


def recorded_calibration(manifest: Manifest, data_config: DataConfig, calib: str | None) -> CalibrationSet:
    """The calibration images the export drew, drawn again the same way (folder, size, seed) and checked
    by their file-list hash. ``calib`` replaces a folder that moved."""
    cal = (manifest.quantization or {}).get("calibration") or {}
    recorded = cal.get("source")
    source = calib or (recorded if recorded not in (None, CalibrationSet.BUILTIN) else None)
    if source is not None and not Path(source).is_dir():
        raise EffmodError(f"rebuilding {manifest.artifact}'s INT8 recipe needs the calibration images its export "
                          f"used ({source}), which are not here", hint="pass --calib DIR with the same images")
    images = load_calibration(source, data_config, cal.get("size") or cal.get("n_images") or 256, cal.get("seed", 0))
    if cal.get("files_sha256") and images.files_sha256 != cal["files_sha256"]:
        raise EffmodError(f"the calibration images in {source or 'the built-in photos'} are not the ones "
                          f"{manifest.artifact}'s export used (their file-list hash differs)",
                          hint="pass --calib DIR with the export's calibration images")
    return images

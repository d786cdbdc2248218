"""Nothing half written: results are built in a private folder beside their final place and renamed
into place whole (same filesystem, so each rename is atomic). Folders left by killed runs are cleaned
by the next run, but only when their process is known to be gone."""
from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path

from . import interrupts
from .errors import EffmodError

TEMP_PREFIX = ".effmod-tmp-"


def check_output(out_dir: Path, names: list[str], force: bool) -> None:
    """The output folder exists (made if needed), is writable, and holds none of ``names`` unless
    ``force``: refused before any work."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise EffmodError(f"cannot create output directory {out_dir}: {e.strerror}",
                          hint="choose a writable --output") from None
    probe = out_dir / ".effmod-write-test"
    try:
        probe.write_text("")
        probe.unlink()
    except OSError:
        raise EffmodError(f"output directory {out_dir} is not writable", hint="choose a writable --output") from None
    existing = [n for n in names if (out_dir / n).exists()]
    if existing and not force:
        raise EffmodError(f"{out_dir / existing[0]} already exists", hint="pass --force to overwrite, or another --output")


def temp_dir(out_dir: Path) -> Path:
    """A private build folder inside the output folder (same filesystem: the final rename is atomic),
    named after this process and host so a later run can tell a dead run's leftovers from a live one's
    (a sweep's cache is shared by the nodes of a cluster: a pid means something only on its own host)."""
    return Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{os.getpid()}@{_host()}-", dir=out_dir))


def _host() -> str:
    return socket.gethostname().replace("-", "_") or "host"


def clean_stale_temp(out_dir: Path, prefix: str = TEMP_PREFIX) -> int:
    """Remove build folders of runs that were killed (their process is gone). Returns how many.
    Folders of another host are left alone: their process cannot be checked from here."""
    removed = 0
    for d in Path(out_dir).glob(prefix + "*"):
        owner = d.name[len(prefix):].split("-", 1)[0]
        pid, _, host = owner.partition("@")
        if host and host != _host():
            continue
        if pid.isdigit() and _alive(int(pid)):
            continue
        shutil.rmtree(d, ignore_errors=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def place_artifact(tmp_artifact: Path, final: Path) -> None:
    """Move a finished artifact and its manifest (``<artifact>.json``) into place; never after a signal."""
    interrupts.check()
    tmp_manifest = tmp_artifact.with_name(tmp_artifact.name + ".json")
    final_manifest = final.with_name(final.name + ".json")
    if final.is_dir():
        shutil.rmtree(final)
    tmp_artifact.replace(final)
    tmp_manifest.replace(final_manifest)

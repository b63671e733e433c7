"""prometheus-client's multiprocess directory. No Django here: gunicorn's config imports it before Django
is set up."""
import os
import shutil
from pathlib import Path

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def multiproc_dir_reset() -> None:
    """Empty the multiprocess directory before a server's first process starts: files left by an earlier
    run (a restarted container keeps its emptyDir) would otherwise be added to this run's values. Each
    server (the gunicorn master, `manage.py worker`) needs a directory of its own."""
    directory = os.environ.get(MULTIPROC_DIR_VARIABLE)
    if not directory:
        return
    path = Path(directory)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)


def multiproc_dir_ensure() -> None:
    """Make the directory if it is missing (never empty it): a process started with the variable but without
    a server that prepares it (a one-off command in a pod) then counts instead of failing at its first value."""
    directory = os.environ.get(MULTIPROC_DIR_VARIABLE)
    if directory:
        Path(directory).mkdir(parents=True, exist_ok=True)

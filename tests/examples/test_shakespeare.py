"""examples/shakespeare.py --quick: the character model on a slice of the plays learns more than
how often each character comes (that alone scores the slice's unigram entropy, about 4.77 bits
per character; a model that learned nothing scores log2(84) = 6.39), writes text after the
prime, and ends with its RESULT line. The plays are fetched once (bptt.datasets.shakespeare)."""
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shakespeare.py"


def test_quick_shakespeare_run_learns_and_writes():
    done = subprocess.run([sys.executable, str(EXAMPLE), "--quick", "--prime", "KING.\nWhat ",
                           "--length", "120"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    lines = out.strip().splitlines()
    match = re.fullmatch(r"RESULT val_bpc=(\d\.\d{4}) steps=200 steps_per_s=(\d+\.\d\d)",
                         lines[-1])
    assert match, lines[-1]
    assert float(match.group(1)) < 4.3
    assert re.search(r"^100/100 .* - bpc: \d\.\d{4} - val_bpc: \d\.\d{4}$", out, re.M)
    written = out.split("--prime):\nKING.\nWhat ", 1)[1].split("\nRESULT")[0]
    assert len(written) == 120 + 1  # the 120 characters asked for, then the blank line


def test_a_prime_outside_the_vocabulary_is_refused_with_the_reason():
    done = subprocess.run([sys.executable, str(EXAMPLE), "--quick", "--steps", "1",
                           "--prime", "caf\u00e9"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 2
    assert "--prime: encode: the character '\u00e9' is not in the vocabulary" in done.stderr


def load_example():
    spec = importlib.util.spec_from_file_location("shakespeare_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_streams_continue_from_batch_to_batch_and_targets_are_the_next_ids():
    streams = load_example().streams
    ids = np.arange(23, dtype=np.int32)  # 22 (input, next) pairs: 2 streams of 11, pieces of 4
    inputs, targets = streams(ids, batch_size=2, seq_len=4)
    assert inputs.shape == targets.shape == (2, 2, 4)  # 2 pieces a stream; 3 ids a stream unused
    assert inputs[:, 0].tolist() == [[0, 1, 2, 3], [4, 5, 6, 7]]  # stream 0: ids 0..10
    assert inputs[:, 1].tolist() == [[11, 12, 13, 14], [15, 16, 17, 18]]  # stream 1: 11..21
    assert (targets == inputs + 1).all()
    with pytest.raises(ValueError, match="cannot fill 8 streams"):
        streams(ids, batch_size=8, seq_len=4)

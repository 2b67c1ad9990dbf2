"""examples/shakespeare.py --quick: the character model on a slice of the plays learns more than
how often each character comes (that alone scores the slice's unigram entropy, about 4.77 bits
per character; a model that learned nothing scores log2(84) = 6.39), writes text after the
prime, and ends with its RESULT line. The plays are fetched once (bptt.datasets.shakespeare)."""
import re
import subprocess
import sys
from pathlib import Path

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

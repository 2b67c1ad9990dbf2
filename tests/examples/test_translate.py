"""examples/translate.py: its decoders on step functions whose probabilities are chosen by hand,
its error measures on hand-checked strings, its split, and the --quick run end to end."""
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "translate.py"
spec = importlib.util.spec_from_file_location("translate_example", EXAMPLE)
translate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(translate)

START, END, A, B = 0, 1, 2, 3  # token ids of the hand-made step functions


def tree_step(table):
    """A decoder whose next-token probabilities depend only on the tokens so far: the state is
    an index into `prefixes`, and `table` maps a prefix (tuple of tokens after START) to its
    probabilities over (START, END, A, B). Returns (step, initial states for N sequences)."""
    prefixes = list(table)

    def step(tokens, states):
        (ids,) = states
        probabilities, new_ids = [], []
        for token, index in zip(tokens, ids):
            prefix = prefixes[int(index)] + ((int(token),) if token != START else ())
            probabilities.append(table.get(prefix, [0, 1, 0, 0]))  # unknown prefix: end
            new_ids.append(prefixes.index(prefix) if prefix in table else 0)
        return np.array(probabilities, dtype=float), [np.array(new_ids)]

    return step


# Greedy takes A (0.6) and then can only end on a poor path: P(A, A, END) = 0.6 * 0.4 * 1 =
# 0.24 and P(A, B, END) = 0.6 * 0.35 = 0.21; the best sequence is B, B, END: 0.4 * 0.9 = 0.36.
TRAP = {
    (): [0, 0, 0.6, 0.4],
    (A,): [0, 0.25, 0.4, 0.35],
    (A, A): [0, 1, 0, 0],
    (A, B): [0, 1, 0, 0],
    (B,): [0, 0.05, 0.05, 0.9],
    (B, B): [0, 1, 0, 0],
}


def decode_both(table, n=1, max_length=10, width=2):
    step = tree_step(table)
    states = [np.zeros(n, dtype=int)]
    return (translate.greedy_decode(step, states, START, END, max_length),
            translate.beam_search(step, states, START, END, width, max_length))


def test_beam_finds_the_more_probable_sequence_that_greedy_misses():
    greedy, beam = decode_both(TRAP, n=2)
    assert greedy == [[A, A], [A, A]]
    assert beam == [[B, B], [B, B]]


def test_beam_of_width_one_is_greedy():
    # Random probabilities after every prefix of A / B shorter than four tokens; then END.
    rng = np.random.default_rng(0)
    table = {}
    for length in range(4):
        for code in range(2 ** length):
            prefix = tuple(A + (code >> i & 1) for i in range(length))
            table[prefix] = np.concatenate([[0], rng.dirichlet(np.ones(3))])
    step = tree_step(table)
    states = [np.zeros(3, dtype=int)]
    greedy = translate.greedy_decode(step, states, START, END, 6)
    assert translate.beam_search(step, states, START, END, 1, 6) == greedy
    greedy, beam = decode_both(TRAP, width=1)
    assert beam == greedy == [[A, A]]


def test_decoders_stop_at_the_end_token_and_leave_it_out():
    table = {(): [0, 0.1, 0.9, 0], (A,): [0, 0.8, 0.2, 0], (A, A): [0, 1, 0, 0]}
    greedy, beam = decode_both(table, width=3)
    assert greedy == [[A]]
    assert beam == [[A]]  # P(A, END) = 0.72 beats END alone (0.1) and A, A, END (0.18)


def test_decoders_respect_the_maximum_length():
    # A sequence that never ends: always A.
    def step(tokens, states):
        return np.tile([0, 0.01, 0.99, 0], (len(tokens), 1)), states

    states = [np.zeros((2, 3))]
    assert translate.greedy_decode(step, states, START, END, 5) == [[A] * 5] * 2
    # The beam finishes END (0.01), A END (0.0099), ... but an unfinished A A A A A (0.95)
    # stays above them, so the search runs to the limit; the best finished sequence wins.
    assert translate.beam_search(step, states, START, END, 2, 5) == [[]] * 2

    def step_no_end(tokens, states):
        return np.tile([0, 0, 0.7, 0.3], (len(tokens), 1)), states

    assert translate.beam_search(step_no_end, states, START, END, 2, 4) == [[A] * 4] * 2


def test_decoders_carry_each_sequences_own_state():
    # The state is the number of tokens still to write before END: 1, 3 and 0.
    def step(tokens, states):
        (left,) = states
        probabilities = np.where((left > 0)[:, None], [0, 0.1, 0.9, 0], [0, 0.9, 0.1, 0])
        return probabilities, [left - 1]

    states = [np.array([1, 3, 0])]
    expected = [[A], [A, A, A], []]
    assert translate.greedy_decode(step, states, START, END, 10) == expected
    assert translate.beam_search(step, states, START, END, 3, 10) == expected


def test_levenshtein_and_error_rates_on_hand_checked_strings():
    assert translate.levenshtein("kitten", "sitting") == 3
    assert translate.levenshtein("", "abc") == 3
    assert translate.levenshtein("vingt et un", "vingt et un") == 0
    assert translate.levenshtein("quatre-vingts", "quatre-vingt") == 1
    # 1 edit over 13 reference characters, then 0 over 3: 1 / 16.
    assert translate.character_error_rate(["quatre-vingt", "six"],
                                          ["quatre-vingts", "six"]) == pytest.approx(1 / 16)
    assert translate.exact_match(["cent", "deux cents", "mille"],
                                 ["cent", "deux cent", "mille"]) == pytest.approx(2 / 3)


def test_split_keeps_the_numbers_apart():
    train, val, test = translate.split_numbers(20_000, 1000, 2000, seed=3)
    assert (len(train), len(val), len(test)) == (20_000, 1000, 2000)
    assert len(set(train) | set(val) | set(test)) == 23_000
    assert set(range(1000)) <= set(train)
    assert min(val.min(), test.min()) >= 1000 and max(val.max(), test.max()) <= 999_999
    again = translate.split_numbers(20_000, 1000, 2000, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(again, (train, val, test)))


def test_a_missing_num2words_is_named_with_its_pip_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "num2words", None)  # import num2words now fails
    with pytest.raises(SystemExit, match="pip install num2words"):
        translate.load_num2words()


def test_quick_translation_run_learns_and_reports():
    """An untrained model writes random characters (greedy decoding: character error rate
    1.1-1.6 on three seeds); after the quick run's few seconds it has at least learned how French
    numbers are written, and below 0.8 it must have."""
    pytest.importorskip("num2words", reason="the example makes its data with num2words")
    done = subprocess.run([sys.executable, str(EXAMPLE), "--quick"], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    match = re.fullmatch(r"RESULT exact_match=(\d\.\d{4}) cer=(\d+\.\d{4}) "
                         r"greedy_exact_match=(\d\.\d{4}) greedy_cer=(\d+\.\d{4}) beam_width=4",
                         lines[-1])
    assert match, lines[-1]
    assert float(match.group(4)) < 0.8
    assert any(line.startswith("Wrong (beam") for line in lines)
    assert any(line.startswith("  beam, width 4: exact match") for line in lines)

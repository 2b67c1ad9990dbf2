"""The tutorial's third scenario: translate numbers written in English words into French words.

    ninety-seven                        -> quatre-vingt-dix-sept
    three hundred and seventy-one       -> trois cent soixante et onze

Pairs come from the num2words package (`pip install num2words`): English as num2words(n) writes
it ("and" after hundred, a comma after thousand when more follows), French as num2words(n,
lang="fr") writes it, in the traditional spelling: hyphens join the tens and units below one
hundred ("quatre-vingt-dix-sept"), except around "et" in 21, 31, 41, 51, 61 and 71 ("vingt et
un", "soixante et onze"); every other word is separated by a space ("deux cent mille"); "vingts"
and "cents" take their s only at the end of the number ("quatre-vingts", "deux cents", but
"quatre-vingt mille", "deux cent un").

Training sees every number from 0 to 999 and numbers drawn at random from 1,000-999,999; the
validation and test numbers are drawn from 1,000-999,999 too, and no number is in two of the
three sets. The model is the character-level encoder-decoder of the keras.io example "Character-
level recurrent sequence-to-sequence model", written the same way with the functional API: an
LSTM reads the English characters and hands its final states to a second LSTM that writes the
French one character at a time (teacher forcing: in training it reads the true previous
character). Then an encoder model and a one-step decoder model are built from the same trained
layers, and the test numbers are decoded greedily and with a beam search.

The encoder reads each English string backwards, as Sutskever, Vinyals and Le (2014) fed their
encoder: the words the decoder writes first ("neuf cent ...") are then the last the encoder
read, not sixty steps back. Characters are one-hot vectors, as in the keras.io example: there
are only some twenty of them, and a one-hot vector times the LSTM's kernel is already a learned
embedding of each character.
Each training batch holds English strings of one length, so the encoder reads no padding and
needs no mask; the French targets of a batch are padded after their end character, and sample
weights keep that padding out of the loss and the accuracy. Adam's learning rate is halved
whenever the validation loss stops falling (ReduceLROnPlateau).

    python examples/translate.py            # the full run: 12 epochs, 10-12 minutes on two cores
    python examples/translate.py --quick    # a small, fast version (used by the tests)

The last line printed is `RESULT exact_match=0.XXXX cer=0.XXXX ...`: the beam search's exact
matches and character error rate on the test numbers, then greedy decoding's.
"""
import argparse
import time

import numpy as np

from bptt import callbacks, layers, models, optimizers, utils
from bptt.utils import Progbar

START, END = "\t", "\n"  # the decoder's first input; the character that ends a translation
LAST = 999_999


def load_num2words():
    try:
        from num2words import num2words
    except ImportError:
        raise SystemExit("This example makes its data with the num2words package, which is not "
                         "installed: pip install num2words") from None
    return num2words


def split_numbers(n_train, n_val, n_test, seed=0):
    """(train, val, test) arrays of numbers: train holds all of 0-999 and n_train - 1000 numbers
    drawn from 1,000-999,999; val and test are drawn from the same range; the three never share
    a number (one permutation, cut in three)."""
    drawn = np.random.default_rng(seed).permutation(np.arange(1000, LAST + 1))
    test = drawn[:n_test]
    val = drawn[n_test:n_test + n_val]
    rest = drawn[n_test + n_val:]
    train = np.concatenate([np.arange(1000), rest[:n_train - 1000]])
    return train, val, test


def make_pairs(numbers, num2words):
    return ([num2words(int(n)) for n in numbers],
            [num2words(int(n), lang="fr") for n in numbers])


class Alphabet:
    """Characters <-> ids; `one_hot(ids)` gives the (..., size) float32 vectors the LSTMs read."""

    def __init__(self, texts, extra=""):
        self.chars = list(extra) + sorted(set("".join(texts)) - set(extra))
        self.index = {c: i for i, c in enumerate(self.chars)}
        self.size = len(self.chars)

    def ids(self, text, reverse=False):
        return [self.index[c] for c in (text[::-1] if reverse else text)]

    def one_hot(self, ids):
        return np.eye(self.size, dtype="float32")[ids]

    def text(self, ids):
        return "".join(self.chars[i] for i in ids)


class LengthBatches(utils.PyDataset):
    """Teacher-forcing batches ([english (B, S, n_in), french in (B, T, n_out)], french out
    (B, T, n_out), weights (B, T)); the English strings of a batch all have one length, S; the
    French ones are padded to the batch's longest, and the padding weighs 0. The batches are
    reshuffled after every epoch when `shuffle`."""

    def __init__(self, english, french, source, target, batch_size, shuffle, seed=0):
        super().__init__()
        self.source, self.target, self.shuffle = source, target, shuffle
        self.english = [source.ids(text, reverse=True) for text in english]
        self.french = [target.ids(START + text + END) for text in french]
        self.rng = np.random.default_rng(seed)
        by_length = {}
        for row, ids in enumerate(self.english):
            by_length.setdefault(len(ids), []).append(row)
        self.groups = list(by_length.values())
        self.batch_size = batch_size
        self._make_batches()

    def _make_batches(self):
        self.batches = []
        for rows in self.groups:
            rows = self.rng.permutation(rows) if self.shuffle else rows
            self.batches += [rows[i:i + self.batch_size]
                             for i in range(0, len(rows), self.batch_size)]
        if self.shuffle:
            self.rng.shuffle(self.batches)

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        rows = self.batches[index]
        x_source = self.source.one_hot([self.english[row] for row in rows])  # (B, S, n_in)
        longest = max(len(self.french[row]) - 1 for row in rows)
        x_target = np.zeros((len(rows), longest, self.target.size), dtype="float32")
        y = np.zeros_like(x_target)  # (B, T, n_out): the next character at every step
        weights = np.zeros((len(rows), longest), dtype="float32")
        for i, row in enumerate(rows):
            steps = self.target.one_hot(self.french[row])
            x_target[i, :len(steps) - 1] = steps[:-1]
            y[i, :len(steps) - 1] = steps[1:]
            weights[i, :len(steps) - 1] = 1
        return [x_source, x_target], y, weights

    def on_epoch_end(self):
        self._make_batches()


def build(n_in, n_out, latent_dim, learning_rate):
    """The training model and, from the same layers, the inference models, as keras.io does."""
    encoder_inputs = layers.Input(shape=(None, n_in))
    encoder = layers.LSTM(latent_dim, return_state=True)
    _, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]

    decoder_inputs = layers.Input(shape=(None, n_out))
    decoder_lstm = layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = layers.Dense(n_out, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)
    model = models.Model([encoder_inputs, decoder_inputs], decoder_outputs)
    model.compile(optimizer=optimizers.Adam(learning_rate, clipnorm=1.0),
                  loss="categorical_crossentropy", weighted_metrics=["accuracy"])

    encoder_model = models.Model(encoder_inputs, encoder_states)
    decoder_state_input_h = layers.Input(shape=(latent_dim,))
    decoder_state_input_c = layers.Input(shape=(latent_dim,))
    decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
    decoder_outputs, state_h, state_c = decoder_lstm(decoder_inputs,
                                                     initial_state=decoder_states_inputs)
    decoder_outputs = decoder_dense(decoder_outputs)
    decoder_model = models.Model([decoder_inputs] + decoder_states_inputs,
                                 [decoder_outputs, state_h, state_c])
    return model, encoder_model, decoder_model


def encode(encoder_model, english, source):
    """The encoder's final states [h, c] for every string (read backwards, as in training),
    computed a length at a time."""
    states = None
    by_length = {}
    for row, text in enumerate(english):
        by_length.setdefault(len(text), []).append(row)
    for rows in by_length.values():
        ids = [source.ids(english[row], reverse=True) for row in rows]
        h, c = encoder_model.predict_on_batch(source.one_hot(ids))
        if states is None:
            states = [np.zeros((len(english), h.shape[1]), h.dtype) for _ in range(2)]
        states[0][rows], states[1][rows] = h, c
    return states


def decoder_step(decoder_model, target):
    """`step(tokens (N,), states) -> (probabilities (N, n_out), states)`: one character of the
    decoder model for N strings at once."""
    def step(tokens, states):
        probabilities, h, c = decoder_model.predict_on_batch(
            [target.one_hot(tokens)[:, None, :]] + list(states))
        return probabilities[:, -1], [h, c]
    return step


def greedy_decode(step, states, start, end, max_length, verbose=0):
    """Decode N sequences at once, taking the most probable token at every step.

    step: `step(tokens (N,), states) -> (probabilities (N, V), new states)`, states a list of
    (N, ...) arrays. Each sequence starts from the token `start` and stops at the first `end`
    (which is not returned) or after `max_length` tokens. Returns N lists of token ids. A
    sequence that has ended is dropped from the later steps' batches.
    """
    n = len(states[0])
    decoded = [[] for _ in range(n)]
    rows = np.arange(n)  # the sequences still being decoded
    tokens = np.full(n, start)
    progbar = Progbar(max_length, verbose=verbose) if verbose else None
    for length in range(max_length):
        probabilities, states = step(tokens, states)
        tokens = probabilities.argmax(axis=-1)
        going = tokens != end
        for row, token in zip(rows[going], tokens[going]):
            decoded[row].append(int(token))
        rows, tokens = rows[going], tokens[going]
        states = [s[going] for s in states]
        if progbar:
            progbar.update(length + 1, finalize=not len(rows) or length + 1 == max_length)
        if not len(rows):
            break
    return decoded


def beam_search(step, states, start, end, width, max_length, verbose=0):
    """Decode N sequences at once, keeping the `width` most probable partial sequences of each.

    A sequence's score is the sum of its tokens' log-probabilities (no length normalisation:
    every extra token lowers the score, so of two equally likely readings the shorter wins).
    At every step each kept sequence is extended by every token; of the extensions, those that
    end with `end` and rank among the `width` best are finished, and the `width` best that do not
    end are kept for the next step. A search stops once no kept sequence scores above its best
    finished one (a score can only fall as tokens are added, so none could overtake it), or
    after `max_length` tokens; then a search with nothing finished returns its best unfinished
    sequence. With width 1 this is exactly greedy_decode. Same `step` and return value as
    greedy_decode.
    """
    n, k = len(states[0]), width
    scores = np.full((n, k), -np.inf)  # (N, k): the kept sequences' log-probabilities
    scores[:, 0] = 0.0  # at first one sequence per search: the start token alone
    sequences = np.zeros((n, k, 0), dtype=int)  # (N, k, length so far)
    tokens = np.full(n * k, start)
    states = [np.repeat(s, k, axis=0) for s in states]  # (N * k, ...)
    best = np.full(n, -np.inf)  # each search's best finished score, and its sequence
    best_sequence = [None] * n
    ranks = np.arange(2 * k)
    progbar = Progbar(max_length, verbose=verbose) if verbose else None
    for length in range(max_length):
        probabilities, states = step(tokens, states)  # (N * k, V)
        vocabulary = probabilities.shape[-1]
        with np.errstate(divide="ignore"):
            log_p = np.log(probabilities).reshape(n, k, vocabulary)
        extended = (scores[:, :, None] + log_p).reshape(n, k * vocabulary)
        # The 2k best extensions hold at least k that do not end (at most k can end: one per
        # kept sequence); the stable sort breaks ties towards the lower token id, as argmax.
        top = np.argsort(-extended, axis=1, kind="stable")[:, :2 * k]  # (N, 2k)
        top_scores = np.take_along_axis(extended, top, axis=1)
        parent, token = top // vocabulary, top % vocabulary
        ends = token == end
        finished = ends & (ranks < k) & (top_scores > best[:, None])
        for i, j in zip(*np.nonzero(finished)):
            if top_scores[i, j] > best[i]:
                best[i] = top_scores[i, j]
                best_sequence[i] = sequences[i, parent[i, j]].tolist()
        keep = np.argsort(ends, axis=1, kind="stable")[:, :k]  # (N, k): the k best that go on
        scores = np.take_along_axis(top_scores, keep, axis=1)
        parent = np.take_along_axis(parent, keep, axis=1)
        token = np.take_along_axis(token, keep, axis=1)
        sequences = np.concatenate([sequences[np.arange(n)[:, None], parent],
                                    token[:, :, None]], axis=2)
        rows = (np.arange(n)[:, None] * k + parent).reshape(-1)
        states = [s[rows] for s in states]
        tokens = token.reshape(-1)
        over = bool(np.all(best >= scores.max(axis=1)))
        if progbar:
            progbar.update(length + 1, finalize=over or length + 1 == max_length)
        if over:
            break
    return [found if found is not None else sequences[i, 0].tolist()
            for i, found in enumerate(best_sequence)]


def levenshtein(a, b):
    """The fewest insertions, deletions and substitutions that turn string a into b."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def character_error_rate(hypotheses, references):
    """Edit distance summed over the pairs, divided by the references' total length."""
    return (sum(levenshtein(h, r) for h, r in zip(hypotheses, references))
            / sum(len(r) for r in references))


def exact_match(hypotheses, references):
    return float(np.mean([h == r for h, r in zip(hypotheses, references)]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small, fast run")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--train", type=int, default=None, help="training numbers (>= 1000)")
    parser.add_argument("--units", type=int, default=None, help="LSTM width (latent_dim)")
    parser.add_argument("--beam", type=int, default=4, help="beam width")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    num2words = load_num2words()
    utils.set_random_seed(args.seed)
    n_train = args.train or (3000 if args.quick else 40_000)
    n_val, n_test = (300, 300) if args.quick else (1000, 2000)
    epochs = args.epochs or (4 if args.quick else 12)
    units = args.units or (64 if args.quick else 192)
    numbers = split_numbers(n_train, n_val, n_test, seed=args.seed)
    (en_train, fr_train), (en_val, fr_val), (en_test, fr_test) = (
        make_pairs(part, num2words) for part in numbers)
    source = Alphabet(en_train)
    target = Alphabet(fr_train, extra=START + END)
    print(f"{len(en_train)} training numbers (all of 0-999 and {len(en_train) - 1000} drawn "
          f"from 1,000-{LAST:,}), {len(en_val)} validation and {len(en_test)} test numbers, "
          f"none in two sets; {source.size} English and {target.size - 2} French characters.")
    for english, french in list(zip(en_train, fr_train))[97:98] + list(zip(en_test, fr_test))[:2]:
        print(f"  {english}  ->  {french}")

    model, encoder_model, decoder_model = build(source.size, target.size, units,
                                                learning_rate=0.003 if args.quick else 0.002)
    train = LengthBatches(en_train, fr_train, source, target, 64, shuffle=True, seed=args.seed)
    val = LengthBatches(en_val, fr_val, source, target, 256, shuffle=False)
    if not args.quick:
        model.summary()
    start = time.perf_counter()
    slower = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1)
    model.fit(train, validation_data=val, epochs=epochs, callbacks=[slower],
              verbose=2 if args.quick else 1)
    seconds = time.perf_counter() - start
    print(f"\nTrained {epochs} epochs in {seconds:.0f} s ({seconds / epochs:.1f} s per epoch, "
          "with the validation loss).")

    max_length = max(len(f) for f in fr_train) + 10
    states = encode(encoder_model, en_test, source)
    step = decoder_step(decoder_model, target)
    verbose = 0 if args.quick else 1
    print("Greedy decoding:")
    start = time.perf_counter()
    greedy = [target.text(ids) for ids in greedy_decode(
        step, states, target.index[START], target.index[END], max_length, verbose)]
    greedy_seconds = time.perf_counter() - start
    print(f"Beam search, width {args.beam}:")
    start = time.perf_counter()
    beam = [target.text(ids) for ids in beam_search(
        step, states, target.index[START], target.index[END], args.beam, max_length, verbose)]
    beam_seconds = time.perf_counter() - start
    scores = {name: (exact_match(out, fr_test), character_error_rate(out, fr_test))
              for name, out in (("greedy", greedy), ("beam", beam))}
    print(f"\n{len(fr_test)} test numbers, never seen in training:")
    print(f"  greedy:        exact match {scores['greedy'][0]:.4f}, character error rate "
          f"{scores['greedy'][1]:.4f} ({greedy_seconds:.1f} s)")
    print(f"  beam, width {args.beam}: exact match {scores['beam'][0]:.4f}, character error "
          f"rate {scores['beam'][1]:.4f} ({beam_seconds:.1f} s)")
    right = [i for i, out in enumerate(beam) if out == fr_test[i]]
    wrong = [i for i, out in enumerate(beam) if out != fr_test[i]]
    print("Right (beam):")
    for i in right[:5]:
        print(f"  {numbers[2][i]:>7,}  {en_test[i]}  ->  {beam[i]}")
    print("Wrong (beam; the expected French below):")
    for i in wrong[:8]:
        print(f"  {numbers[2][i]:>7,}  {en_test[i]}  ->  {beam[i]}\n{'':11}expected:  {fr_test[i]}"
              + ("" if greedy[i] == beam[i] else f"\n{'':11}greedy:    {greedy[i]}"))
    print(f"RESULT exact_match={scores['beam'][0]:.4f} cer={scores['beam'][1]:.4f} "
          f"greedy_exact_match={scores['greedy'][0]:.4f} greedy_cer={scores['greedy'][1]:.4f} "
          f"beam_width={args.beam}")


if __name__ == "__main__":
    main()

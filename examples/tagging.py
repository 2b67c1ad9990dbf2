"""The tutorial's second scenario: give every word of a sentence its part of speech.

Universal Dependencies English-EWT (bptt.datasets.udpos: 12,543 / 2,002 / 2,077 sentences,
17 tags). An Embedding with mask_zero=True turns word ids into vectors and marks the padding, a
Bidirectional LSTM reads each sentence both ways (return_sequences=True: one output per word),
and a per-word Dense softmax picks the tag. Each batch is padded only to its own longest
sentence; the mask keeps the padding out of the LSTM's states, the loss and the accuracy.

    python examples/tagging.py            # the full run, early stopping on the dev split
    python examples/tagging.py --quick    # a small, fast version (used by the tests)
    python examples/tagging.py --lowercase
    python examples/tagging.py --chars    # word and character features

Edit SENTENCES below to tag your own. The last line printed is `RESULT test_accuracy=0.XXXX`.
"""
import argparse
import time

import numpy as np

from bptt import callbacks, layers, models, utils
from bptt.datasets import udpos

SENTENCES = [
    "I saw her duck under the table .",
    "The old man the boats .",
    "Time flies like an arrow ; fruit flies like a banana .",
]


class PaddedBatches(utils.PyDataset):
    """Sentences in batches, each padded with 0 to its own longest sentence; the order of the
    sentences is reshuffled after every epoch when `shuffle` (fit shuffles the batches too)."""

    def __init__(self, words, tags, batch_size, shuffle, seed=0):
        super().__init__()
        self.words, self.tags, self.batch_size = words, tags, batch_size
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(len(words))
        if shuffle:
            self.rng.shuffle(self.order)

    def __len__(self):
        return -(-len(self.words) // self.batch_size)

    def __getitem__(self, index):
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        longest = max(len(self.words[row]) for row in rows)
        x = np.zeros((len(rows), longest), dtype="int32")
        y = np.zeros((len(rows), longest), dtype="int32")
        for i, row in enumerate(rows):
            x[i, :len(self.words[row])] = self.words[row]
            y[i, :len(self.tags[row])] = self.tags[row]
        return x, y

    def on_epoch_end(self):
        if self.shuffle:
            self.rng.shuffle(self.order)


class CharBatches(PaddedBatches):
    """The same batches with each word's characters beside its id, and sample weights that keep
    the padding out of the loss and accuracy: ([words (B, T), chars (B, T, C)], tags, tags != 0).
    """

    def __init__(self, words, tags, chars, batch_size, shuffle, seed=0):
        super().__init__(words, tags, batch_size, shuffle, seed)
        self.chars = chars  # per sentence, per word: a list of character ids

    def __getitem__(self, index):
        x, y = super().__getitem__(index)
        rows = self.order[index * self.batch_size:(index + 1) * self.batch_size]
        longest = max(len(word) for row in rows for word in self.chars[row])
        c = np.zeros(x.shape + (longest,), dtype="int32")
        for i, row in enumerate(rows):
            for t, word in enumerate(self.chars[row]):
                c[i, t, :len(word)] = word
        return [x, c], y, (y != 0).astype("float32")


def char_ids(sentences, alphabet=None, longest=16):
    """Each word as character ids (1 + its rank in the training alphabet; 0 pads, unseen 1)."""
    if alphabet is None:
        counts = {}
        for sentence in sentences:
            for word in sentence:
                for ch in word:
                    counts[ch] = counts.get(ch, 0) + 1
        alphabet = {ch: i + 2 for i, ch in enumerate(sorted(counts, key=counts.get,
                                                            reverse=True))}
    return [[[alphabet.get(ch, 1) for ch in word[:longest]] for word in sentence]
            for sentence in sentences], alphabet


def build_with_chars(vocabulary, tags, alphabet, units):
    """Word and character features (as published taggers, e.g. Plank et al. 2016): each word's
    characters read by a small Bidirectional LSTM, its final states joined to the word's
    embedding, then the same word-level Bidirectional LSTM and per-word softmax. The padding is
    kept out by sample weights (a merge with the unmasked character features would drop the
    words' mask, as in Keras)."""
    words_in = layers.Input(shape=(None,), dtype="int32", name="words")
    chars_in = layers.Input(shape=(None, None), dtype="int32", name="chars")
    w = layers.Embedding(vocabulary, 100)(words_in)
    c = layers.TimeDistributed(layers.Embedding(alphabet, 24))(chars_in)  # (B, T, C, 24)
    c = layers.TimeDistributed(layers.Bidirectional(layers.LSTM(32)))(c)  # (B, T, 64)
    x = layers.Concatenate()([w, c])
    x = layers.Bidirectional(layers.LSTM(units, return_sequences=True))(x)
    out = layers.TimeDistributed(layers.Dense(tags, activation="softmax"))(x)
    model = models.Model([words_in, chars_in], out)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  weighted_metrics=["accuracy"])
    return model


def build(vocabulary, tags, embedding_dim, units):
    model = models.Sequential([
        layers.Input(shape=(None,), dtype="int32"),
        layers.Embedding(vocabulary, embedding_dim, mask_zero=True),
        layers.Bidirectional(layers.LSTM(units, return_sequences=True)),
        layers.TimeDistributed(layers.Dense(tags, activation="softmax")),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def confused_pairs(model, data, tags, top=5):
    counts = {}
    for index in range(len(data)):
        x, y = data[index][:2]
        predicted = model.predict_on_batch(x).argmax(axis=-1)
        real = y != 0
        for truth, guess in zip(y[real], predicted[real]):
            if truth != guess:
                counts[(tags[truth], tags[guess])] = counts.get((tags[truth], tags[guess]), 0) + 1
    return sorted(counts.items(), key=lambda item: -item[1])[:top]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small, fast run")
    parser.add_argument("--lowercase", action="store_true", help="lowercase the words")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--chars", action="store_true",
                        help="add character features (a BiLSTM over each word's letters)")
    args = parser.parse_args()
    utils.set_random_seed(0)
    (x_train, y_train), (x_dev, y_dev), (x_test, y_test), (words, tags) = udpos.load_ids(
        lowercase=args.lowercase)
    if args.quick:
        x_train, y_train = x_train[:2000], y_train[:2000]
        x_dev, y_dev, x_test, y_test = x_dev[:300], y_dev[:300], x_test[:300], y_test[:300]
    epochs = args.epochs or (3 if args.quick else 20)
    embedding_dim, units = (32, 32) if args.quick else (100, 64)
    print(f"UD English-EWT: {len(x_train)} training, {len(x_dev)} dev and {len(x_test)} test "
          f"sentences; {len(words)} words, {len(tags) - 1} tags.")
    if args.chars:
        (w_train, _), (w_dev, _), (w_test, _) = udpos.load_data(lowercase=args.lowercase)
        n = len(x_train)
        c_train, alphabet = char_ids(w_train[:n])
        c_dev, _ = char_ids(w_dev[:len(x_dev)], alphabet)
        c_test, _ = char_ids(w_test[:len(x_test)], alphabet)
        model = build_with_chars(len(words), len(tags), len(alphabet) + 2, units)
        train = CharBatches(x_train, y_train, c_train, 32, shuffle=True)
        dev = CharBatches(x_dev, y_dev, c_dev, 128, shuffle=False)
        test = CharBatches(x_test, y_test, c_test, 128, shuffle=False)
    else:
        model = build(len(words), len(tags), embedding_dim, units)
        train = PaddedBatches(x_train, y_train, 32, shuffle=True)
        dev = PaddedBatches(x_dev, y_dev, 128, shuffle=False)
        test = PaddedBatches(x_test, y_test, 128, shuffle=False)
    stop = callbacks.EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True)
    start = time.perf_counter()
    history = model.fit(train, validation_data=dev, epochs=epochs, callbacks=[stop],
                        verbose=1 if not args.quick else 2)
    seconds = (time.perf_counter() - start) / len(history.history["loss"])
    loss, accuracy = model.evaluate(test, verbose=0)
    print(f"\n{len(history.history['loss'])} epochs, {seconds:.1f} s per epoch "
          "(training and the dev evaluation).")
    print(f"Test accuracy: {accuracy:.4f} of the words tagged right (test loss {loss:.4f}).")
    print("Most confused (true -> predicted): " + ", ".join(
        f"{a} -> {b} ({n})" for (a, b), n in confused_pairs(model, test, tags)))
    index = {word: i for i, word in enumerate(words)}
    print("\nYour sentences (edit SENTENCES in examples/tagging.py):")
    for sentence in SENTENCES:
        tokens = [t.lower() if args.lowercase else t for t in sentence.split()]
        ids = np.array([[index.get(t, 1) for t in tokens]])
        if args.chars:
            (chars,), _ = char_ids([tokens], alphabet)
            c = np.zeros((1, len(tokens), max(map(len, chars))), dtype="int32")
            for t, word in enumerate(chars):
                c[0, t, :len(word)] = word
            ids = [ids, c]
        guess = model.predict_on_batch(ids).argmax(axis=-1)[0]
        print("  " + " ".join(f"{t}/{tags[g]}" for t, g in zip(tokens, guess)))
    print(f"RESULT test_accuracy={accuracy:.4f}")


if __name__ == "__main__":
    main()

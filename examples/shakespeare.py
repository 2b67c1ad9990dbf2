"""A character-level language model of Shakespeare, trained with truncated backpropagation
through time over a stateful LSTM, that then writes text of its own.

The works (bptt.datasets.shakespeare: 4.55 M training and 253 k validation characters, 84
distinct) are cut into 64 contiguous streams; batch k holds the k-th 100-character piece of
every stream, and the target of each character is the next one. The LSTM is stateful: its last
states after batch k are its first states for batch k + 1, which continues the same 64 streams,
so the model reads the text as one long sequence while the gradient is cut every 100
characters (truncated BPTT). The states are zeroed at the start of each pass over the text.

    Embedding(84, 64) -> LSTM(256, return_sequences=True, stateful=True) -> Dense(84)

The Dense layer gives logits, and the loss is sparse categorical crossentropy with
from_logits=True: the log-softmax inside the loss is stable for any logit, and sampling divides
the logits by the temperature before its own softmax. Adam with Keras' defaults.

Every --every steps, validation bits per character: the mean crossentropy (in nats) over the
validation text divided by ln 2, read by a copy of the model with the trained weights the same
way (64 streams, states carried over). At the end, a batch-1 copy reads PRIME and then writes
one character at a time, each drawn from softmax(logits / temperature).

    python examples/shakespeare.py                     # 2,900 steps (about 4 passes)
    python examples/shakespeare.py --steps 500 --temperature 0.5 --prime "$(cat my_scene.txt)"
    python examples/shakespeare.py --quick             # a small, fast version (used by the tests)

The last line printed is `RESULT val_bpc=X.XXXX steps=N steps_per_s=Y.YY` (training steps per
second, validation left out). On 2 cores (Xeon, AVX-512) the full run took 6 min 43 s: 8.35
steps/s, validation 2.51 bits per character after 2,300 steps and 2.44 after 2,900.
"""
import argparse
import math
import time

import numpy as np

from bptt import layers, losses, models, utils
from bptt.datasets import shakespeare

# The text the model continues; edit it, or give --prime. Keep a line or more: the model learned
# from states carried over from the text before, and zero states (once per pass) are rare in
# training, so its first characters after zero states come out nearly at random; the prime
# warms the states up.
PRIME = ("ROMEO.\nBut soft, what light through yonder window breaks?\n"
         "It is the east, and Juliet is the sun.\n\nJULIET.\n")


def streams(ids, batch_size, seq_len):
    """(inputs, targets), each (pieces, batch_size, seq_len) int32: the ids cut into
    `batch_size` contiguous streams, then each stream into pieces of `seq_len`; piece k of row
    b continues piece k - 1 of row b. The targets are the inputs shifted by one character. The
    ids that do not fill a whole piece of every stream are left out."""
    per_stream = (len(ids) - 1) // batch_size  # characters each stream reads
    pieces = per_stream // seq_len
    if pieces == 0:
        raise ValueError(f"{len(ids)} characters cannot fill {batch_size} streams of one "
                         f"{seq_len}-character piece; use a longer text or a smaller batch.")
    used = pieces * seq_len
    rows = np.arange(batch_size)[:, None] * per_stream + np.arange(used)  # (B, used)
    def cut(a):  # (B, used) -> (pieces, B, seq_len)
        return np.ascontiguousarray(a.reshape(batch_size, pieces, seq_len).transpose(1, 0, 2))
    return cut(ids[rows]), cut(ids[rows + 1])


def build(vocabulary_size, batch_size, embedding_dim, units):
    """The language model for a fixed batch size (a stateful layer keeps one state per row);
    any number of characters per batch."""
    model = models.Sequential([
        layers.Input(shape=(None,), batch_size=batch_size, dtype="int32"),
        layers.Embedding(vocabulary_size, embedding_dim),
        layers.LSTM(units, return_sequences=True, stateful=True),
        layers.Dense(vocabulary_size),  # logits
    ])
    model.compile(optimizer="adam",
                  loss=losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def bits_per_character(model, inputs, targets):
    """The mean crossentropy over every (input, target) pair, in bits, read batch after batch
    with the states carried over (from zero states)."""
    model.reset_states()
    nats = sum(model.test_on_batch(x, y) for x, y in zip(inputs, targets))
    return nats / len(inputs) / math.log(2)  # every batch holds as many characters


def sample(model, vocabulary, prime, length, temperature, rng):
    """`length` characters that continue `prime`, each drawn from softmax(logits / temperature)
    of a batch-1 model that reads the prime and then its own characters, one at a time."""
    model.reset_states()
    logits = model.predict_on_batch(shakespeare.encode(prime, vocabulary)[None, :])[0, -1]
    written = []
    for _ in range(length):
        scaled = logits.astype(np.float64) / temperature
        p = np.exp(scaled - scaled.max())
        chosen = rng.choice(len(vocabulary), p=p / p.sum())
        written.append(vocabulary[chosen])
        logits = model.predict_on_batch(np.array([[chosen]], dtype="int32"))[0, -1]
    return "".join(written)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small, fast run")
    parser.add_argument("--steps", type=int, default=None, help="training steps (batches)")
    parser.add_argument("--every", type=int, default=None,
                        help="steps between two validations")
    parser.add_argument("--temperature", type=float, default=0.8,
                        help="below 1 plays safe, above 1 takes risks")
    parser.add_argument("--prime", default=PRIME, help="the text the model continues")
    parser.add_argument("--length", type=int, default=400, help="characters to write")
    args = parser.parse_args()
    if args.temperature <= 0:
        parser.error(f"--temperature must be above 0, got {args.temperature}")
    utils.set_random_seed(0)
    (train, validation, _), vocabulary = shakespeare.load_data()
    if args.quick:  # a slice of the text and a smaller model
        train, validation = train[:300_000], validation[:40_000]
        batch_size, seq_len, embedding_dim, units = 32, 50, 32, 128
    else:
        batch_size, seq_len, embedding_dim, units = 64, 100, 64, 256
    steps = args.steps or (200 if args.quick else 2900)
    every = args.every or (100 if args.quick else 100)
    try:
        prime_ids = shakespeare.encode(args.prime, vocabulary)
    except ValueError as e:
        parser.error(f"--prime: {e}")
    if len(prime_ids) == 0:
        parser.error("--prime must have at least one character")
    x_train, y_train = streams(shakespeare.encode(train, vocabulary), batch_size, seq_len)
    x_val, y_val = streams(shakespeare.encode(validation, vocabulary), batch_size, seq_len)
    print(f"Shakespeare: {len(train):,} training and {len(validation):,} validation characters, "
          f"{len(vocabulary)} distinct; {batch_size} streams, {len(x_train)} batches of "
          f"{seq_len} characters per pass.")

    model = build(len(vocabulary), batch_size, embedding_dim, units)
    reader = build(len(vocabulary), batch_size, embedding_dim, units)  # validation copy
    training_seconds, val_bpc, step = 0.0, float("nan"), 0
    while step < steps:
        stop = min(step + every, steps)
        bar = utils.Progbar(stop - step)  # bpc shown: the mean over the steps so far
        print(f"Steps {step + 1}-{stop}")
        nats = []
        start = time.perf_counter()
        for done in range(step, stop):
            k = done % len(x_train)
            if k == 0:  # a new pass over the text starts from zero states
                model.reset_states()
            nats.append(float(model.train_on_batch(x_train[k], y_train[k])))
            bar.update(done + 1 - step, {"bpc": nats[-1] / math.log(2)},
                       finalize=False)
        training_seconds += time.perf_counter() - start
        reader.set_weights(model.get_weights())
        val_bpc = bits_per_character(reader, x_val, y_val)
        bar.update(stop - step, {"bpc": float(np.mean(nats)) / math.log(2), "val_bpc": val_bpc},
                   finalize=True)
        step = stop
    steps_per_s = steps / training_seconds
    print(f"\n{steps} steps in {training_seconds:.0f} s of training ({steps_per_s:.2f} steps/s); "
          f"validation: {val_bpc:.4f} bits per character.")

    writer = build(len(vocabulary), 1, embedding_dim, units)  # batch 1, one character a call
    writer.set_weights(model.get_weights())
    rng = np.random.default_rng(0)
    text = sample(writer, vocabulary, args.prime, args.length, args.temperature, rng)
    print(f"\nTemperature {args.temperature} (edit PRIME in examples/shakespeare.py or give "
          f"--prime):\n{args.prime}{text}\n")
    print(f"RESULT val_bpc={val_bpc:.4f} steps={steps} steps_per_s={steps_per_s:.2f}")


if __name__ == "__main__":
    main()

"""The tutorial's model, unchanged but for the import: sentiment of real IMDB movie reviews.

An Embedding turns each of the last 50 words of a review into a vector, two stacked LSTMs read
them in order (the first hands its whole sequence to the second: return_sequences=True), and
a Dense sigmoid turns the second LSTM's last hidden state into P(positive).

Run with `make demo`. Edit SENTENCES below to try your own. Data-parallel on 4 processes
(pip install 'bptt[mpi]'; docs/distributed.md):

    mpiexec -n 4 python -m mpi4py examples/sentiment.py --distributed
"""
import os
import sys
import time

from bptt import distribution, layers, models
from bptt.datasets import imdb
from bptt.utils import set_random_seed

SENTENCES = [
    "This movie was wonderful, the acting was brilliant and I loved every minute of it.",
    "A dull, boring film. The plot made no sense and I wanted my money back.",
    "Not the best film I have seen, but the cast was great and the ending surprised me.",
    "The worst thing I have watched this year: awful dialogue and terrible acting.",
]
MODEL_PATH = os.environ.get("BPTT_DEMO_MODEL", "sentiment_model.bptt")
EPOCHS = int(os.environ.get("BPTT_DEMO_EPOCHS", "3"))

if "--distributed" in sys.argv[1:]:  # each process trains on its rows of every batch
    distribution.set_distribution(distribution.DataParallel())
say = print if distribution.is_chief() else (lambda *args, **kwargs: None)  # rank 0 speaks

set_random_seed(int(os.environ.get("BPTT_DEMO_SEED", "0")))
(X_train, y_train), (X_test, y_test) = imdb.load_data(num_words=20000, maxlen=50)
say(f"IMDB reviews: {len(X_train)} to train on, {len(X_test)} to test on, "
    f"each the last {X_train.shape[1]} words as word ids.")

model = models.Sequential()
model.add(layers.Embedding(input_dim=20000, output_dim=128))
model.add(layers.LSTM(64, return_sequences=True, dropout=0.2))
model.add(layers.LSTM(32, return_sequences=False))
model.add(layers.Dense(1, activation='sigmoid'))
model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])

start = time.perf_counter()
history = model.fit(X_train, y_train, epochs=EPOCHS)
seconds = time.perf_counter() - start
model.summary(print_fn=say)
loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
say(f"\nTrained {EPOCHS} epochs in {seconds:.0f} s ({seconds / EPOCHS:.1f} s per epoch).")
say(f"Test accuracy: {accuracy:.4f}   test loss: {loss:.4f}   (chance: 0.5)")

model.save(MODEL_PATH)
say(f"Saved the model to {MODEL_PATH}; reload it with bptt.models.load_model({MODEL_PATH!r}).")

say("\nP(positive) for a few sentences (edit SENTENCES in examples/sentiment.py):")
probabilities = model.predict(imdb.encode(SENTENCES, num_words=20000, maxlen=50), verbose=0)
for sentence, p in zip(SENTENCES, probabilities[:, 0]):
    say(f"  {p:.3f}  {'positive' if p >= 0.5 else 'negative'}  {sentence}")
sys.exit(0 if accuracy > 0.5 else 1)

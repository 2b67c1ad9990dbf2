"""The tutorial's program, with only the import changed, learns from real IMDB reviews.

A subset (4,000 reviews to train on, 1,000 to test on, 2 epochs) keeps it to seconds; `make demo`
runs the full 20,000 / 5,000 and 3 epochs.
"""
import numpy as np

from bptt import layers, models
from bptt.datasets import imdb
from bptt.utils import set_random_seed


def test_tutorial_model_learns_real_reviews():
    set_random_seed(0)
    (X_train, y_train), (X_test, y_test) = imdb.load_data(num_words=20000, maxlen=50)
    X_train, y_train = X_train[:4000], y_train[:4000]
    X_test, y_test = X_test[:1000], y_test[:1000]
    assert abs(y_test.mean() - 0.5) < 0.05  # chance is ~0.5

    model = models.Sequential()
    model.add(layers.Embedding(input_dim=20000, output_dim=128))
    model.add(layers.LSTM(64, return_sequences=True, dropout=0.2))
    model.add(layers.LSTM(32, return_sequences=False))
    model.add(layers.Dense(1, activation='sigmoid'))
    model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
    history = model.fit(X_train, y_train, epochs=2, verbose=0)
    loss, accuracy = model.evaluate(X_test, y_test, verbose=0)

    assert history.history["loss"][1] < history.history["loss"][0]
    assert accuracy > 0.66, f"test accuracy {accuracy:.3f} on 1,000 real reviews"
    probabilities = model.predict(X_test[:5], verbose=0)
    assert probabilities.shape == (5, 1) and np.all((probabilities > 0) & (probabilities < 1))

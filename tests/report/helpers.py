"""What the report tests share: a small trained model, and reading a page back."""
import base64
import io
import re

import numpy as np

from bptt import layers, models
from bptt.report import History

DATA_URI = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')


def tagger(name="tagger", vocabulary=12, tags=4, units=3):
    """Embedding (masked) -> Bidirectional LSTM -> GRU -> a softmax per word, compiled."""
    model = models.Sequential([
        layers.Input(shape=(None,)), layers.Embedding(vocabulary, 4, mask_zero=True),
        layers.Bidirectional(layers.LSTM(units, return_sequences=True), name="both"),
        layers.GRU(units, return_sequences=True, name="gru"),
        layers.TimeDistributed(layers.Dense(tags, activation="softmax"))], name=name)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def tagging_data(rng, rows=6, steps=7, vocabulary=12, tags=4):
    """Word ids with post-padding (0) and a tag per word (0 at the padding)."""
    x = rng.integers(1, vocabulary, size=(rows, steps))
    x[0, 5:] = 0
    y = np.where(x > 0, x % (tags - 1) + 1, 0)
    return x, y


def history_of(fit_history):
    """A report History from fit's History."""
    history = History()
    for epoch in range(len(fit_history.epoch)):
        history.add(epoch, {key: values[epoch] for key, values in fit_history.history.items()})
    return history


def images(page):
    """The inline PNGs of the page, each decoded into an (H, W, channels) array."""
    import matplotlib.image

    decoded = []
    for data in DATA_URI.findall(page):
        raw = base64.b64decode(data, validate=True)
        assert raw[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
        decoded.append(matplotlib.image.imread(io.BytesIO(raw), format="png"))
    return decoded


def section(page, key):
    """The HTML of one section of the page, by its id."""
    start = page.index(f'<section id="{key}">')
    return page[start:page.index("</section>", start)]

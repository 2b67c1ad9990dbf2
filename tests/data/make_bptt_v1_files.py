"""How tests/data/bptt_model_v1.bptt and its companions were made: by bptt 0.1.0 before the model file
gained its manifest (format_version 1). Kept to show the old files still load; rerunning it
with a newer bptt writes the newer format, so the files are not to be regenerated."""
import numpy as np
from bptt import layers, models, optimizers
from bptt.utils import set_random_seed

set_random_seed(7)
rng = np.random.default_rng(7)
model = models.Sequential([
    layers.Input(shape=(5,)),
    layers.Embedding(12, 3),
    layers.LSTM(4, return_sequences=True, dropout=0.1),
    layers.GRU(3),
    layers.Dense(1, activation="sigmoid"),
])
model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="binary_crossentropy",
              metrics=["accuracy"])
x = rng.integers(0, 12, size=(16, 5))
y = (x[:, -1] > 5).astype("float32")
model.fit(x, y, epochs=1, batch_size=8, verbose=0)
model.save("tests/data/bptt_model_v1.bptt")
np.savez("tests/data/bptt_model_v1_expected.npz", x=x, predictions=model.predict(x, verbose=0),
         iterations=np.array(model.optimizer.iterations))
print(model.optimizer.iterations)
model.save_weights("tests/data/bptt_weights_v1.weights.npz")

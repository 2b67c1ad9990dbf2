"""How much of the loss's gradient reaches each word of a review, going back in time.

BPTT multiplies the gradient by one Jacobian per step it goes back, so whether it vanishes
depends on those Jacobians. For a SimpleRNN it is diag(1 - h^2) @ recurrent_kernel^T: Keras'
orthogonal recurrent initializer starts it near norm 1. An LSTM's cell state (the tutorial's
"highway") carries the gradient back multiplied by the forget gate, a GRU's state by its update
gate z: near 1 they keep it, and training moves them where the data says. This script measures
it with bptt.diagnostics on 100-word IMDB reviews, before and after one epoch of training, and
prints each layer's parameter count: a GRU has 3 blocks of weights where an LSTM has 4.

    .venv/bin/python examples/vanishing_gradients.py
"""
from bptt import diagnostics, layers, models
from bptt.datasets import imdb
from bptt.utils import set_random_seed

STEPS = 100
WHEN = (1, 25, 50, 75, 100)
(x_train, y_train), _ = imdb.load_data(num_words=5000, maxlen=STEPS)
x, y = x_train[:2000], y_train[:2000]

print(f"mean |dL/dx_t| relative to the last word (t = {STEPS}), on 256 reviews")
print(f"{'cell':>10} {'params':>7} {'trained':>8}" + "".join(f"{'t=' + str(t):>9}" for t in WHEN))
for cell in (layers.SimpleRNN, layers.LSTM, layers.GRU):
    set_random_seed(0)
    recurrent = cell(32)
    model = models.Sequential([layers.Embedding(5000, 32), recurrent,
                               layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    for trained in ("no", "1 epoch"):
        if trained != "no":
            model.fit(x, y, epochs=1, verbose=0)
        flow = diagnostics.gradient_through_time(model, x[:256], y[:256])[recurrent.name]
        print(f"{cell.__name__:>10} {recurrent.count_params():>7,} {trained:>8}"
              + "".join(f"{flow[t - 1] / flow[-1]:>9.1e}" for t in WHEN))

lstm, gru = layers.LSTM(64), layers.GRU(64)
lstm.build((None, STEPS, 128))
gru.build((None, STEPS, 128))
print(f"\nLSTM(64) on 128 features: {lstm.count_params():,} weights; GRU(64): "
      f"{gru.count_params():,} ({1 - gru.count_params() / lstm.count_params():.1%} fewer).")
print("Both keep a state of 64 numbers per review whatever the forget gate does: forgetting "
      "frees no memory.")

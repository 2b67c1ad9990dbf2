"""The tutorial's model in PyTorch (CPU), written as a PyTorch user would, at its best on a CPU.

    nn.Embedding(20000, 128) -> input dropout -> nn.LSTM(128, 64) -> nn.LSTM(64, 32), last h
    -> nn.Linear(32, 1) -> logits; nn.BCEWithLogitsLoss; torch.optim.Adam(lr=1e-3,
    betas=(0.9, 0.999), eps=1e-7) (Keras' defaults; PyTorch's own eps is 1e-8)

nn.LSTM on CPU in float32 runs oneDNN's fused RNN (aten::mkldnn_rnn_layer and its backward);
`checks` (run once, in the serving worker only) finds it with the profiler in a training
step and reports it.

Keras' LSTM(dropout=0.2) drops the layer's inputs with one mask per sequence (the same
features of x_t dropped at every t). nn.LSTM's own `dropout` is between stacked layers, so the
mask is drawn here: (B, 1, 128) Bernoulli(0.8) / 0.8, broadcast over time, multiplied into the
embeddings in training mode only. That is the same maths as Keras and bptt, not nn.Dropout's
fresh mask per timestep.

Keras has one LSTM bias, PyTorch two (bias_ih, bias_hh) that are only ever added together:
bias_hh is set to zero and frozen (requires_grad=False), so the model is the same function with
the same 2,621,857 trainable parameters (timing it with bias_hh trainable made no difference).

    training step      opt.zero_grad(); loss_fn(model(x), y).backward(); opt.step()
    one review         torch.sigmoid(model(x1)) under torch.no_grad(), model.eval()
                       (torch.inference_mode() measured ~5% faster here; no_grad is what users write)
    predict            the same on 1000-review batches, concatenated into one numpy array
    LSTM layer         nn.LSTM(D, H, batch_first=True) forward + backward(dy) with x.requires_grad
    padded batch       the same model at T = 200, plain (every step, padding included) against
                       packed: the embeddings go through
                       nn.utils.rnn.pack_padded_sequence(e, lengths, batch_first=True,
                       enforce_sorted=False) and the PackedSequence through both LSTMs, whose
                       last h is then each row's last real step (PyTorch's way of skipping
                       padding; a packed nn.LSTM runs aten's native loop, not oneDNN's:
                       `padding_checks` reports the ops). Default threads: one thread was
                       slower for both here (packed 367 against 249 ms/step, measured once)
"""
import contextlib
import time

import numpy as np

from benchmarks.workloads import common


class TorchWorkload(common.Workload):
    name = "torch"

    def load(self):
        import torch

        self.torch = torch
        return {"torch": torch.__version__, "numpy": np.__version__}

    def build(self, weights):
        torch, nn = self.torch, self.torch.nn
        self.model = TutorialModel(torch)
        self.model.set_keras_weights(weights)
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(params, lr=common.LEARNING_RATE,
                                          betas=(common.BETA_1, common.BETA_2), eps=common.EPSILON)
        self.loss_fn = nn.BCEWithLogitsLoss()
        self.model.train()

    def checks(self):
        """The aten RNN ops one training step runs: mkldnn_rnn_layer means oneDNN's fused RNN."""
        from torch.profiler import profile

        x = self.torch.from_numpy(self.x_train[:32])
        y = self.torch.from_numpy(self.y_train[:32])
        with self.torch.no_grad():
            saved = [p.detach().clone() for p in self.model.parameters()]
        with profile() as prof:
            self._step(x, y)
        with self.torch.no_grad():  # leave the weights as they were given
            for p, s in zip(self.model.parameters(), saved):
                p.copy_(s)
        self.optimizer.state.clear()
        ops = sorted({e.name for e in prof.events() if "rnn" in e.name or "lstm" in e.name})
        return {"rnn_ops_in_a_training_step": ops, "onednn_rnn": "aten::mkldnn_rnn_layer" in ops}

    def padded_model(self, weights, x, y, lengths, skip):
        torch = self.torch
        model = TutorialModel(torch)
        model.set_keras_weights(weights)
        optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad],
                                     lr=common.LEARNING_RATE, betas=(common.BETA_1, common.BETA_2),
                                     eps=common.EPSILON)
        x, y = torch.from_numpy(x), torch.from_numpy(y)
        lengths = torch.from_numpy(lengths.astype(np.int64)) if skip else None  # CPU int64

        def step():
            model.train()
            optimizer.zero_grad()
            loss = self.loss_fn(model(x, lengths), y)
            loss.backward()
            optimizer.step()
            return loss.item()

        def predict():
            model.eval()
            with torch.no_grad():
                return torch.sigmoid(model(x, lengths)).numpy()
        return step, predict

    def padding_checks(self):
        """The aten RNN ops of each padded model's forward (the forward only: under the profiler
        a packed training step took over 10 s, its graph being many small ops per step)."""
        from torch.profiler import profile

        ops = {}
        for mode, (_, predict) in self._padded.items():
            with profile() as prof:
                predict()
            ops[mode] = sorted({e.name for e in prof.events()
                                if "rnn" in e.name or "lstm" in e.name})
        return {"rnn_ops_in_a_forward": ops,
                "packed_runs_onednn": "aten::mkldnn_rnn_layer" in ops["skipped"]}

    def index_dtype(self):
        return np.int64  # nn.Embedding's usual index type (int32 timed the same, within noise)

    def trainable_params(self):
        return sum(p.numel() for p in self.model.parameters() if p.requires_grad)

    def _step(self, x, y):
        self.optimizer.zero_grad()
        loss = self.loss_fn(self.model(x), y)
        loss.backward()
        self.optimizer.step()
        return loss

    def train_step(self, x, y):
        self.model.train()
        return self._step(self.torch.from_numpy(x), self.torch.from_numpy(y)).item()

    def predict_one(self, x):
        self.model.eval()
        with self.torch.no_grad():
            return self.torch.sigmoid(self.model(self.torch.from_numpy(x))).numpy()

    def predict(self, x, batch_size):
        torch = self.torch
        self.model.eval()
        with torch.no_grad():
            return torch.cat([torch.sigmoid(self.model(torch.from_numpy(x[i:i + batch_size])))
                              for i in range(0, len(x), batch_size)]).numpy()

    def lstm_layer(self, T, B, D, H, rng):
        torch = self.torch
        lstm = torch.nn.LSTM(D, H, batch_first=True)
        x = torch.from_numpy(rng.standard_normal((B, T, D), dtype=np.float32)).requires_grad_()
        dy = torch.from_numpy(rng.standard_normal((B, T, H), dtype=np.float32))

        def forward_backward():
            lstm.zero_grad(set_to_none=True)
            x.grad = None
            out, _ = lstm(x)
            out.backward(dy)
        return forward_backward

    def matmul_peak(self, n, repeats):
        torch = self.torch
        a, b = torch.randn(n, n), torch.randn(n, n)
        out = torch.empty(n, n)
        torch.mm(a, b, out=out)
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter()
            torch.mm(a, b, out=out)
            best = min(best, time.perf_counter() - start)
        return {"n": n, "gflops": 2.0 * n ** 3 / best / 1e9, "best_ms": 1e3 * best}

    @contextlib.contextmanager
    def thread_limit(self, threads):
        before = self.torch.get_num_threads()
        self.torch.set_num_threads(threads)
        try:
            yield
        finally:
            self.torch.set_num_threads(before)

    def threads(self):
        torch = self.torch
        return {"num_threads": torch.get_num_threads(),
                "num_interop_threads": torch.get_num_interop_threads(),
                "mkldnn_enabled": torch.backends.mkldnn.enabled,
                "parallel_info": torch.__config__.parallel_info(),
                "config": torch.__config__.show()}


def TutorialModel(torch):
    nn = torch.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(common.VOCAB, common.EMBED)
            self.lstm_1 = nn.LSTM(common.EMBED, common.UNITS_1, batch_first=True)
            self.lstm_2 = nn.LSTM(common.UNITS_1, common.UNITS_2, batch_first=True)
            self.dense = nn.Linear(common.UNITS_2, 1)
            for lstm in (self.lstm_1, self.lstm_2):
                with torch.no_grad():
                    lstm.bias_hh_l0.zero_()
                lstm.bias_hh_l0.requires_grad_(False)  # Keras has one bias: bias_ih

        def forward(self, x, lengths=None):  # x (B, T) int; lengths (B,): skip the padding
            e = self.embedding(x)  # (B, T, 128)
            if self.training:  # Keras' input dropout: one mask per sequence, kept over time
                keep = 1.0 - common.DROPOUT
                e = e * torch.empty(e.shape[0], 1, e.shape[2]).bernoulli_(keep).div_(keep)
            if lengths is not None:  # the real steps only: x must be post-padded
                e = nn.utils.rnn.pack_padded_sequence(e, lengths, batch_first=True,
                                                      enforce_sorted=False)
            hs, _ = self.lstm_1(e)  # (B, T, 64), or packed
            _, (h, _) = self.lstm_2(hs)  # h (1, B, 32)
            return self.dense(h[-1]).squeeze(-1)  # (B,) logits

        def set_keras_weights(self, weights):
            """Keras' [embeddings, kernel, recurrent_kernel, bias (x2), kernel, bias] -> ours.
            Keras' LSTM gate order i, f, c, o is PyTorch's i, f, g, o: only transposes."""
            emb, k1, u1, b1, k2, u2, b2, dk, db = [torch.from_numpy(np.ascontiguousarray(w))
                                                     for w in weights]
            with torch.no_grad():
                self.embedding.weight.copy_(emb)
                for lstm, k, u, b in ((self.lstm_1, k1, u1, b1), (self.lstm_2, k2, u2, b2)):
                    lstm.weight_ih_l0.copy_(k.T)
                    lstm.weight_hh_l0.copy_(u.T)
                    lstm.bias_ih_l0.copy_(b)
                self.dense.weight.copy_(dk.T)
                self.dense.bias.copy_(db)

    return Model()


if __name__ == "__main__":
    common.main(TorchWorkload())

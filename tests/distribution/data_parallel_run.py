"""A small data-parallel training run, launched by the tests (one process, or under mpiexec):
fit with shuffling, dropout and an uneven last batch, then evaluate and predict; rank 0 writes
the weights and results to the .npz file named on the command line.

    python -m mpi4py tests/distribution/data_parallel_run.py OUT.npz [--distributed] [--epochs N]
"""
import argparse
import os

import numpy as np

from bptt import distribution, layers, models, optimizers
from bptt.utils import set_random_seed


def build_model():
    model = models.Sequential([
        layers.Input(shape=(6,)),
        layers.Embedding(30, 8),
        layers.LSTM(5, return_sequences=True, dropout=0.2, recurrent_dropout=0.1),
        layers.Dropout(0.3),
        layers.GRU(4),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def data():
    rng = np.random.default_rng(5)
    x = rng.integers(1, 30, size=(45, 6))
    y = (x[:, :3].sum(axis=1) > 45).astype("float32")
    return x, y


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--distributed", action="store_true")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=8)  # 45 rows: a last batch of 5
    parser.add_argument("--resume-from", help="a model file to load instead of building")
    parser.add_argument("--initial-epoch", type=int, default=0)
    parser.add_argument("--checkpoint", help="ModelCheckpoint path (saved every epoch)")
    parser.add_argument("--die-after-epoch", type=int,
                        help="this process (rank 1) exits hard after that many epochs")
    args = parser.parse_args()
    if args.distributed:
        devices = distribution.list_devices()  # Keras' recipe: one "cpu:<rank>" per process
        distribution.set_distribution(distribution.DataParallel(devices=devices))
    set_random_seed(3)
    model = models.load_model(args.resume_from) if args.resume_from else build_model()
    callbacks = []
    if args.checkpoint:
        from bptt.callbacks import LambdaCallback, ModelCheckpoint

        callbacks.append(ModelCheckpoint(args.checkpoint, monitor="loss"))
        if args.die_after_epoch is not None:
            def die(epoch, logs):
                if epoch + 1 == args.die_after_epoch and distribution.process_id() == 1:
                    os._exit(3)  # a process dying mid-job, as a killed node would
            callbacks.append(LambdaCallback(on_epoch_end=die))
    x, y = data()
    history = model.fit(x, y, epochs=args.epochs, batch_size=args.batch_size, shuffle=True,
                        verbose=0, callbacks=callbacks, initial_epoch=args.initial_epoch)
    loss, accuracy = model.evaluate(x, y, batch_size=7, verbose=0)
    predictions = model.predict(x, batch_size=4, verbose=0)
    if distribution.is_chief():
        weights = model.get_weights()
        np.savez(args.out, loss=history.history["loss"], accuracy=history.history["accuracy"],
                 eval_loss=loss, eval_accuracy=accuracy, predictions=predictions,
                 processes=distribution.num_processes(),
                 **{f"w{index}": w for index, w in enumerate(weights)})


if __name__ == "__main__":
    main()

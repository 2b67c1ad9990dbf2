"""Callbacks that watch a logged quantity: EarlyStopping and ModelCheckpoint (and the
improvement rule they share with ReduceLROnPlateau)."""
import math

from bptt.callbacks.base import Callback


class _Monitor(Callback):
    """Shared by EarlyStopping, ModelCheckpoint and ReduceLROnPlateau: which quantity, and which
    way is better."""

    def __init__(self, monitor, mode, min_delta=0.0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}.")
        self.monitor = monitor
        if mode == "auto":
            # Keras: accuracy-like quantities go up, everything else goes down.
            mode = "max" if any(k in monitor for k in ("acc", "auc", "precision", "recall")) \
                else "min"
        self.sign = 1.0 if mode == "min" else -1.0
        self.min_delta = abs(min_delta)

    def value(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            import warnings
            warnings.warn(f"{type(self).__name__}: monitored quantity '{self.monitor}' is not in "
                          f"the logs (available: {sorted(logs or {})}).", stacklevel=3)
        return value

    def improved(self, value, best):
        """Whether `value` beats `best` (None: nothing yet) by more than min_delta. NaN is never
        an improvement, also as the first value (Keras 3.15 takes a first NaN as the best and
        then never improves on it; Keras 2 started from +-inf, where NaN never wins)."""
        if math.isnan(value):
            return False
        return best is None or self.sign * (value - best) < -self.min_delta


class EarlyStopping(_Monitor):
    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        value = self.value(logs)
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self.improved(value, self.best):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self.improved(value, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_Monitor):
    """Save the model (or its weights) after each epoch, or only when `monitor` improves.

    `filepath` may contain Keras-style fields, e.g. 'model-{epoch:02d}-{val_loss:.2f}.bptt'.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode)
        if save_freq != "epoch":
            raise NotImplementedError("ModelCheckpoint supports save_freq='epoch' only.")
        self.filepath = str(filepath)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        path = self.filepath.format(epoch=epoch + 1, **logs)
        if self.save_best_only:
            value = self.value(logs)
            if value is None or not self.improved(value, self.best):
                return
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best} to "
                      f"{value:.5f}, saving model to {path}")
            self.best = value
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

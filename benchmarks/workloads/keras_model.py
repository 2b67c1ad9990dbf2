"""The tutorial's model in Keras 3, on the backend KERAS_BACKEND names (tensorflow or jax).

Keras is an optional extra and may live in another virtual environment (tensorflow-cpu pins its
own versions): this worker needs only numpy and keras, plus threadpoolctl if present. The model
is the tutorial's code with a keras.Input((50,), dtype="int32") so it is built before the
weights are set.

    training step      model.train_on_batch(x, y)   (~35% faster here than fit's per-step
                       time on the same batches: fit adds a tf.data pipeline and callbacks)
    one review         model.predict_on_batch(x1)   (model(x1, training=False) runs eagerly
                       on TensorFlow and was ~50x slower)
    predict            model.predict(x, batch_size=1000, verbose=0)
"""
import os

import numpy as np

from benchmarks.workloads import common


class KerasWorkload(common.KerasAPIWorkload):
    name = "keras"

    def load(self):
        import keras

        self.keras = keras
        self.backend = keras.config.backend()
        versions = {"keras": keras.__version__, "backend": self.backend, "numpy": np.__version__}
        if self.backend == "tensorflow":
            import tensorflow as tf

            versions["tensorflow"] = tf.__version__
        elif self.backend == "jax":
            import jax
            import jaxlib

            versions["jax"] = jax.__version__
            versions["jaxlib"] = jaxlib.__version__
        return versions

    def build(self, weights):
        keras = self.keras
        model = keras.Sequential()
        model.add(keras.Input((common.MAXLEN,), dtype="int32"))
        model.add(keras.layers.Embedding(input_dim=common.VOCAB, output_dim=common.EMBED))
        model.add(keras.layers.LSTM(common.UNITS_1, return_sequences=True, dropout=common.DROPOUT))
        model.add(keras.layers.LSTM(common.UNITS_2, return_sequences=False))
        model.add(keras.layers.Dense(1, activation="sigmoid"))
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        model.set_weights(weights)
        self.model = model

    def trainable_params(self):
        return int(sum(np.prod(w.shape) for w in self.model.trainable_weights))

    def threads(self):
        out = {"KERAS_BACKEND": os.environ.get("KERAS_BACKEND"), "backend": self.backend}
        if self.backend == "tensorflow":
            import tensorflow as tf

            out["intra_op_parallelism_threads (0 = one per core)"] = (
                tf.config.threading.get_intra_op_parallelism_threads())
            out["inter_op_parallelism_threads (0 = one per core)"] = (
                tf.config.threading.get_inter_op_parallelism_threads())
            out["TF_ENABLE_ONEDNN_OPTS"] = os.environ.get("TF_ENABLE_ONEDNN_OPTS", "unset (on)")
        elif self.backend == "jax":
            import jax

            out["devices"] = [str(d) for d in jax.devices()]
            out["XLA_FLAGS"] = os.environ.get("XLA_FLAGS")
        return out


if __name__ == "__main__":
    common.main(KerasWorkload())

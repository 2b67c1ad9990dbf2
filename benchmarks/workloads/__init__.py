"""The tutorial's model in each framework, as a worker process that the parent (benchmarks/run.py)
drives over a pipe, so every framework runs in its own process with its own environment.

    bptt_model.py    bptt (Sequential, train_on_batch / predict_on_batch / predict)
    torch_model.py   PyTorch: nn.Embedding, nn.LSTM (oneDNN's fused RNN on CPU), nn.Linear
    keras_model.py   Keras 3 on TensorFlow or JAX (KERAS_BACKEND), possibly from another venv

common.py holds what they share: the model's sizes, the timed loops (the same code times every
framework) and the worker's main(). Nothing here imports bptt, torch or keras at module level,
so a worker pays only for its own framework.
"""

"""Speed and memory of bptt side by side with PyTorch and Keras; never part of `make test`.

    python -m benchmarks.run [--quick]      the tutorial's model in every framework, see run.py

accuracy.py and kernels_speed.py are separate scripts with their own docstrings.
"""

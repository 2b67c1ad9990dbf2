"""ModelFileError: what every failure to read a model or weights file raises."""


class ModelFileError(ValueError):
    """A model or weights file that cannot be read: not a bptt file, damaged, cut short, or
    describing a model its arrays do not hold. The message says what is wrong; the exception
    that revealed it, if any, is its __cause__."""

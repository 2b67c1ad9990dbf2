"""What Keras 3 exports and bptt does not have, each with the thing to use instead.

A namespace's module-level `__getattr__` (PEP 562) calls `refuse(module, namespace, name)`: a
Keras name listed here raises AttributeError with one sentence,

    keras.layers.Conv2D: bptt does not have it; bptt is for sequences, so use Conv1D over the
    time axis

and any other name the usual "module ... has no attribute ..." error. The lists follow the
exports of keras/api/<namespace>/__init__.py (Keras 3.15); names bptt has never reach here.
(`keras.ops.<name>` is answered by bptt/ops/__init__.py: bptt.ops is bptt's own maths.)
"""

# Said of names with no bptt equivalent at all.
_NONE = "bptt has nothing in its place"

_SEQUENCES = "bptt is for sequences, so use "
_IMAGES = "bptt is for sequences and has no image layers or image data"
_BACKENDS = ("bptt runs its own NumPy layers only; rebuild the model from bptt's layers and copy "
             "the weights in with set_weights (bptt.converters for PyTorch's recurrent layers)")


def _table(*groups):
    """{name: alternative} from (space-separated names, alternative) pairs."""
    table = {}
    for names, alternative in groups:
        for name in names.split():
            table[name] = alternative
    return table


LAYERS = _table(
    ("Conv2D Convolution2D Conv3D Convolution3D Conv2DTranspose Convolution2DTranspose "
     "Conv3DTranspose Convolution3DTranspose DepthwiseConv2D SeparableConv2D "
     "SeparableConvolution2D", _SEQUENCES + "Conv1D over the time axis"),
    ("Conv1DTranspose Convolution1DTranspose", "use UpSampling1D followed by Conv1D"),
    ("DepthwiseConv1D SeparableConv1D SeparableConvolution1D",
     "use Conv1D (a full convolution across the channels)"),
    ("MaxPooling2D MaxPool2D MaxPooling3D MaxPool3D", _SEQUENCES + "MaxPooling1D"),
    ("AveragePooling2D AvgPool2D AveragePooling3D AvgPool3D", _SEQUENCES + "AveragePooling1D"),
    ("GlobalMaxPooling2D GlobalMaxPool2D GlobalMaxPooling3D GlobalMaxPool3D",
     _SEQUENCES + "GlobalMaxPooling1D"),
    ("GlobalAveragePooling2D GlobalAvgPool2D GlobalAveragePooling3D GlobalAvgPool3D",
     _SEQUENCES + "GlobalAveragePooling1D"),
    ("AdaptiveMaxPooling1D AdaptiveMaxPooling2D AdaptiveMaxPooling3D",
     "use MaxPooling1D with a pool_size and strides that give the length you want, or "
     "GlobalMaxPooling1D"),
    ("AdaptiveAveragePooling1D AdaptiveAveragePooling2D AdaptiveAveragePooling3D",
     "use AveragePooling1D with a pool_size and strides that give the length you want, or "
     "GlobalAveragePooling1D"),
    ("Cropping2D Cropping3D", _SEQUENCES + "Cropping1D"),
    ("ZeroPadding2D ZeroPadding3D", _SEQUENCES + "ZeroPadding1D"),
    ("UpSampling2D UpSampling3D", _SEQUENCES + "UpSampling1D"),
    ("SpatialDropout2D SpatialDropout3D", _SEQUENCES + "SpatialDropout1D"),
    ("ConvLSTM1D ConvLSTM2D ConvLSTM3D",
     "use Conv1D followed by LSTM, or TimeDistributed(Conv1D(...)) before an LSTM"),
    ("Lambda", "write the operation as a built-in layer (Add, Multiply, Reshape, Permute, ...), "
               "or subclass Layer with forward and backward"),
    ("Attention AdditiveAttention MultiHeadAttention GroupQueryAttention",
     "build dot-product attention in a functional model from Dot(axes=2) (query, key), "
     "Activation('softmax') and Dot(axes=(2, 1)) (weights, value)"),
    ("EinsumDense", "use Dense (it acts on the last axis), with Reshape or Permute around it"),
    ("TernaryDense", "use Dense"),
    ("ReversibleEmbedding", "use Embedding, and a Dense layer for the output projection"),
    ("Identity", "use Activation('linear')"),
    ("ReLU", "use Activation('relu')"),
    ("Softmax", "use Activation('softmax')"),
    ("ELU LeakyReLU PReLU", "use Activation('relu') (bptt's activations: relu, tanh, sigmoid, "
                            "hard_sigmoid, softmax, linear)"),
    ("GroupNormalization RMSNormalization UnitNormalization SpectralNormalization",
     "use LayerNormalization or BatchNormalization"),
    ("AlphaDropout GaussianDropout GaussianNoise", "use Dropout"),
    ("ActivityRegularization", "bptt has no regularization losses; use Dropout, or the "
                               "optimizer's weight_decay"),
    ("Normalization", "standardize the arrays with NumPy before fit, (x - mean) / std"),
    ("Rescaling", "scale the arrays with NumPy before fit"),
    ("StringLookup IntegerLookup Hashing HashedCrossing CategoryEncoding Discretization",
     "turn the values into integer ids before fit (bptt.datasets.text.Tokenizer for words, "
     "utils.to_categorical for one-hot vectors)"),
    ("MelSpectrogram STFTSpectrogram", "compute the features with NumPy or SciPy before fit"),
    ("AugMix AutoContrast CenterCrop ContrastLimitedAdaptiveHistogramEqualization CutMix "
     "Equalization MaxNumBoundingBoxes MixUp RandAugment RandomBrightness "
     "RandomColorDegeneration RandomColorJitter RandomContrast RandomCrop "
     "RandomElasticTransform RandomErasing RandomFlip RandomGaussianBlur RandomGrayscale "
     "RandomHue RandomInvert RandomPerspective RandomPosterization RandomRotation "
     "RandomSaturation RandomSharpness RandomShear RandomTranslation RandomZoom Resizing "
     "Solarization", _IMAGES),
    ("Pipeline", "use Sequential"),
    ("TFSMLayer FlaxLayer JaxLayer TorchModuleWrapper", _BACKENDS),
    ("Wrapper", "subclass Layer (forward and backward), or use Bidirectional or TimeDistributed"),
    ("InputSpec", "each bptt layer checks its input shape in build; declare inputs with "
                  "Input(shape=...)"),
)

TOP = _table(
    ("applications", "bptt has no pretrained models"),
    ("random", "use NumPy's random generators; utils.set_random_seed seeds bptt's draws"),
    ("mixed_precision dtype_policies DTypePolicy FloatDTypePolicy",
     "bptt computes in float32 or float64: backend.set_floatx('float64')"),
    ("device", "bptt runs on CPUs; bptt.distribution.DataParallel trains on several "
               "processes over MPI"),
    ("export", "save the model with model.save(path) and load it with models.load_model"),
    ("quantizers Quantizer", _NONE),
    ("visualization", "use model.summary()"),
    ("wrappers", "call fit / predict on the model directly"),
    ("constraints", "clip the weights after each batch in a callbacks.LambdaCallback "
                    "(on_train_batch_end) with layer.set_weights"),
    ("Regularizer", "use Dropout, or the optimizer's weight_decay"),
    ("tree", "use Python's own loops over the lists and dicts"),
    ("legacy", "use the current Keras names, which bptt follows"),
    ("distillation", "train the student with fit on the teacher's predict outputs"),
    ("Variable", "a layer's weights are NumPy arrays: layer.get_weights() / set_weights()"),
    ("Function Operation", "call layers on Input(...) tensors and build a Model"),
    ("InputSpec", "declare inputs with Input(shape=...)"),
    ("name_scope RematScope remat StatelessScope SymbolicScope", _NONE),
)

LOSSES = _table(
    ("BinaryFocalCrossentropy binary_focal_crossentropy CategoricalFocalCrossentropy "
     "categorical_focal_crossentropy CategoricalGeneralizedCrossEntropy "
     "categorical_generalized_cross_entropy",
     "use BinaryCrossentropy or CategoricalCrossentropy, with sample_weight in fit for "
     "imbalanced classes"),
    ("Hinge hinge SquaredHinge squared_hinge CategoricalHinge categorical_hinge",
     "use BinaryCrossentropy or CategoricalCrossentropy"),
    ("CosineSimilarity cosine_similarity", "use MeanSquaredError on normalized vectors "
                                           "(utils.normalize)"),
    ("CTC ctc", "bptt has no alignment-free sequence loss"),
    ("Dice dice Tversky tversky Circle circle", _NONE),
)

METRICS = _table(
    ("AUC Precision Recall TruePositives TrueNegatives FalsePositives FalseNegatives "
     "PrecisionAtRecall RecallAtPrecision SensitivityAtSpecificity SpecificityAtSensitivity "
     "F1Score FBetaScore",
     "compute it with NumPy from model.predict(x) after fit (the metrics bptt tracks during "
     "fit are the accuracies and the regression and crossentropy errors)"),
    ("TopKCategoricalAccuracy SparseTopKCategoricalAccuracy top_k_categorical_accuracy "
     "sparse_top_k_categorical_accuracy", "use CategoricalAccuracy or SparseCategoricalAccuracy, "
                                          "or compute top-k from model.predict(x) with NumPy"),
    ("IoU BinaryIoU MeanIoU OneHotIoU OneHotMeanIoU", _NONE),
    ("Hinge SquaredHinge CategoricalHinge hinge squared_hinge categorical_hinge "
     "CosineSimilarity", "use the accuracies or the crossentropies"),
    ("R2Score PearsonCorrelation ConcordanceCorrelation pearson_correlation "
     "concordance_correlation", "compute it with NumPy from model.predict(x)"),
    ("Sum", "use Mean"),
)

CALLBACKS = _table(
    ("TensorBoard", "read History.history after fit, or write it with CSVLogger"),
    ("BackupAndRestore OrbaxCheckpoint", "use ModelCheckpoint, and models.load_model to resume"),
    ("RemoteMonitor", "use LambdaCallback to send the logs where you want them"),
    ("SwapEMAWeights", "bptt's optimizers keep no moving average of the weights"),
)

OPTIMIZERS = _table(
    ("Adadelta Adafactor Adagrad Adamax Ftrl Lamb Lion Muon Nadam ScheduleFreeAdamW",
     "use Adam, AdamW, RMSprop or SGD"),
    ("LossScaleOptimizer", "bptt computes in float32 or float64 and needs no loss scaling"),
    ("MultiOptimizer OptimizerMap", "use one optimizer for the whole model"),
    ("legacy", "use the current optimizers"),
)

INITIALIZERS = _table(
    ("STFT STFTInitializer stft", "compute the kernel with NumPy and pass it as Constant(array)"),
)

ACTIVATIONS = _table(
    ("celu elu exponential gelu glu hard_shrink hard_silu hard_swish hard_tanh leaky_relu "
     "log_sigmoid log_softmax mish relu6 selu silu swish soft_shrink softplus softsign "
     "sparse_plus sparse_sigmoid sparsemax squareplus tanh_shrink threshold",
     "bptt's layers take relu, tanh, sigmoid, hard_sigmoid, softmax and linear"),
)

UTILS = _table(
    ("get_file", "bptt never downloads; read local files, or bptt.datasets for its data"),
    ("plot_model model_to_dot", "use model.summary()"),
    ("array_to_img img_to_array load_img save_img image_dataset_from_directory "
     "audio_dataset_from_directory", "bptt is for sequences of numbers or words and reads no "
                                     "images or audio"),
    ("text_dataset_from_directory", "read the files with Python and turn them into ids with "
                                    "bptt.datasets.text.Tokenizer"),
    ("FeatureSpace", "prepare the features with NumPy before fit"),
    ("register_keras_serializable get_registered_name get_registered_object "
     "CustomObjectScope custom_object_scope get_custom_objects serialize_keras_object "
     "deserialize_keras_object", "a bptt model file holds bptt's built-in layers only; "
                                 "rebuild a custom model in code and load_weights"),
    ("split_dataset", "split the arrays with NumPy, or use fit's validation_split"),
    ("disable_interactive_logging enable_interactive_logging is_interactive_logging_enabled",
     "pass verbose=0 to fit, evaluate and predict"),
    ("Config", "use a dict"),
    ("bounding_boxes", _IMAGES),
    ("legacy", "use the current names"),
)

PREPROCESSING = _table(
    ("image image_dataset_from_directory", _IMAGES),
    ("text_dataset_from_directory", UTILS["text_dataset_from_directory"]),
)

BACKEND = _table(
    ("set_epsilon", "bptt's losses use Keras' default epsilon, 1e-7, fixed"),
    ("set_image_data_format", "bptt has no image layers; sequences are (batch, time, features)"),
    ("result_type standardize_dtype is_float_dtype is_int_dtype", "use NumPy's dtypes "
                                                                   "(np.result_type, np.dtype)"),
)

CONFIG = _table(
    ("set_epsilon", "bptt's losses use Keras' default epsilon, 1e-7, fixed"),
    ("set_image_data_format", "bptt has no image layers; sequences are (batch, time, features)"),
    ("set_backend", "bptt computes with NumPy only"),
    ("enable_unsafe_deserialization", "bptt's model files hold no code to run: nothing to enable"),
    ("dtype_policy set_dtype_policy", "bptt computes in float32 or float64: set_floatx('float64')"),
    ("enable_flash_attention disable_flash_attention is_flash_attention_enabled", _NONE),
)

DATASETS = _table(
    ("mnist fashion_mnist cifar10 cifar100", _IMAGES),
    ("boston_housing california_housing reuters", "bptt reads only the data of installed "
                                                  "packages: datasets.imdb"),
)

REGULARIZERS = _table(
    ("L1 L2 L1L2 l1 l2 l1_l2 OrthogonalRegularizer orthogonal_regularizer Regularizer get "
     "serialize deserialize", "bptt's layers take no *_regularizer arguments; use the "
                              "optimizer's weight_decay (decoupled, as AdamW) or Dropout"),
)

# Kept here for bptt.models, whose module can refuse them with refuse(__name__, "models", name).
MODELS = _table()

_TABLES = {"": TOP, "layers": LAYERS, "losses": LOSSES, "metrics": METRICS,
           "callbacks": CALLBACKS, "optimizers": OPTIMIZERS, "initializers": INITIALIZERS,
           "activations": ACTIVATIONS, "utils": UTILS, "preprocessing": PREPROCESSING,
           "backend": BACKEND, "datasets": DATASETS, "regularizers": REGULARIZERS,
           "models": MODELS, "config": CONFIG}


def message(namespace, name):
    """The sentence for keras.<namespace>.<name>, or None when it is not a listed Keras name."""
    alternative = _TABLES[namespace].get(name)
    if alternative is None:
        return None
    path = f"keras.{namespace}.{name}" if namespace else f"keras.{name}"
    # No closing period: Python's traceback adds its own ". Did you mean: 'Conv1D'?" after it.
    return f"{path}: bptt does not have it; {alternative}"


def refuse(module, namespace, name):
    """Raise the AttributeError a module-level __getattr__ should raise for `name`."""
    text = None if name.startswith("__") else message(namespace, name)
    raise AttributeError(text or f"module {module!r} has no attribute {name!r}")

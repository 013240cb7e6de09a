"""Implementations of inverted dropout and batch normalization, right and wrong, with the verdict
and the mistake id each must get. The code runs with `keras` and `ops` (keras.ops) defined."""

from grader.internals.questions import DROPOUT, DROPOUT_LAYER, solution_code

DROPOUT_RIGHT = "\n" + solution_code(DROPOUT) + "\n"  # the kit's own solution, as a student would write it

FUNCTIONS = [
    ("dropout with where", DROPOUT_RIGHT, True, None),
    ("dropout with a float mask", '''
def inverted_dropout(x, rate, training, seed_generator):
    if training:
        mask = ops.cast(keras.random.uniform(ops.shape(x), seed=seed_generator) < 1 - rate, x.dtype)
        return x * mask / (1.0 - rate)
    return x
''', True, None),
    ("dropout with a scale variable", '''
def inverted_dropout(x, rate, training, seed_generator):
    x = ops.convert_to_tensor(x)
    if not training or rate == 0:
        return x
    scale = 1.0 / (1.0 - rate)
    random = keras.random.uniform(ops.shape(x), minval=0.0, maxval=1.0, seed=seed_generator)
    return ops.multiply(x, ops.cast(ops.greater_equal(random, rate), "float32")) * scale
''', True, None),
    ("dropout not inverted", '''
def inverted_dropout(x, rate, training, seed_generator):
    if not training:
        return x
    return x * ops.cast(keras.random.uniform(ops.shape(x), seed=seed_generator) >= rate, x.dtype)
''', False, "dropout-not-inverted"),
    ("dropout scaled at inference", '''
def inverted_dropout(x, rate, training, seed_generator):
    if not training:
        return x * (1 - rate)
    return x * ops.cast(keras.random.uniform(ops.shape(x), seed=seed_generator) >= rate, x.dtype)
''', False, "dropout-scaled-at-inference"),
    ("dropout keeps rate instead of dropping it", '''
def inverted_dropout(x, rate, training, seed_generator):
    if not training:
        return x
    keep = keras.random.uniform(ops.shape(x), seed=seed_generator) < rate
    return ops.where(keep, x / rate, 0.0)
''', False, "dropout-rate-kept"),
    ("dropout same mask at every call", '''
def inverted_dropout(x, rate, training, seed_generator):
    if not training:
        return x
    keep = keras.random.uniform(ops.shape(x), seed=42) >= rate
    return ops.where(keep, x / (1 - rate), 0.0)
''', False, "dropout-same-mask"),
    ("dropout also at inference", '''
def inverted_dropout(x, rate, training, seed_generator):
    keep = keras.random.uniform(ops.shape(x), seed=seed_generator) >= rate
    return ops.where(keep, x / (1 - rate), 0.0)
''', False, "dropout-drops-at-inference"),
    ("dropout one mask for the whole batch", '''
def inverted_dropout(x, rate, training, seed_generator):
    if not training:
        return x
    keep = keras.random.uniform((1, ops.shape(x)[-1]), seed=seed_generator) >= rate
    return ops.where(keep, x / (1 - rate), 0.0)
''', False, "dropout-same-mask-per-row"),
    ("dropout calls keras", '''
def inverted_dropout(x, rate, training, seed_generator):
    return keras.random.dropout(x, rate, seed=seed_generator) if training else x
''', False, "uses-keras-layer"),
    ("dropout forgets to return", '''
def inverted_dropout(x, rate, training, seed_generator):
    if not training:
        return x
    x = ops.where(keras.random.uniform(ops.shape(x), seed=seed_generator) >= rate, x / (1 - rate), 0.0)
''', False, "returns-none"),
    ("dropout wrong fraction", '''
def inverted_dropout(x, rate, training, seed_generator):
    if not training:
        return x
    keep = keras.random.uniform(ops.shape(x), seed=seed_generator) >= rate / 2
    return ops.where(keep, x / (1 - rate), 0.0)
''', False, "dropout-fraction"),
]

LAYERS = [
    ("dropout layer", DROPOUT_RIGHT + "\n" + solution_code(DROPOUT_LAYER) + "\n", True, None),
    ("dropout layer with one fixed seed", DROPOUT_RIGHT + '''
class MyDropout(keras.layers.Layer):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate, self.seed = rate, seed

    def call(self, inputs, training=False):
        return inverted_dropout(inputs, self.rate, training, keras.random.SeedGenerator(self.seed))
''', False, "dropout-same-mask"),
]

BN_TEMPLATE = '''
class MyBatchNormalization(keras.layers.Layer):
    def __init__(self, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.momentum, self.epsilon = momentum, epsilon

    def build(self, input_shape):
        n = input_shape[-1]
        self.gamma = self.add_weight(shape=(n,), initializer="ones", name="gamma"{gamma_trainable})
        self.beta = self.add_weight(shape=(n,), initializer="zeros", name="beta"{gamma_trainable})
        self.moving_mean = self.add_weight(shape=(n,), initializer="zeros", name="moving_mean", trainable={stats_trainable})
        self.moving_variance = self.add_weight(shape=(n,), initializer="ones", name="moving_variance", trainable={stats_trainable})

    def call(self, inputs, training=False):
        axes = list(range(len(inputs.shape) - 1))
{body}
'''

RIGHT_BODY = '''        if training:
            mean, var = ops.moments(inputs, axes=axes)
            self.moving_mean.assign(self.momentum * self.moving_mean + (1 - self.momentum) * mean)
            self.moving_variance.assign(self.momentum * self.moving_variance + (1 - self.momentum) * var)
        else:
            mean, var = self.moving_mean, self.moving_variance
        return self.gamma * (inputs - mean) / ops.sqrt(var + self.epsilon) + self.beta'''


def bn(body=RIGHT_BODY, gamma_trainable="", stats_trainable="False"):
    return BN_TEMPLATE.format(body=body, gamma_trainable=gamma_trainable, stats_trainable=stats_trainable)


BATCHNORM = [
    ("batchnorm with moments", bn(), True, None),
    ("batchnorm with mean and var", bn(RIGHT_BODY.replace(
        "mean, var = ops.moments(inputs, axes=axes)", "mean = ops.mean(inputs, axis=axes)\n            var = ops.var(inputs, axis=axes)")), True, None),
    ("batchnorm with mean of squares", bn(RIGHT_BODY.replace(
        "mean, var = ops.moments(inputs, axes=axes)",
        "mean = ops.mean(inputs, axis=axes)\n            var = ops.mean(inputs * inputs, axis=axes) - mean * mean")), True, None),
    ("batchnorm with rsqrt", bn(RIGHT_BODY.replace(
        "return self.gamma * (inputs - mean) / ops.sqrt(var + self.epsilon) + self.beta",
        "return (inputs - mean) * ops.rsqrt(var + self.epsilon) * self.gamma + self.beta")), True, None),
    ("batchnorm unbiased variance", bn(RIGHT_BODY.replace(
        "mean, var = ops.moments(inputs, axes=axes)",
        "mean, var = ops.moments(inputs, axes=axes)\n            n = ops.cast(ops.shape(inputs)[0], inputs.dtype)\n            var = var * n / (n - 1)")),
     False, "bn-unbiased-variance"),
    ("batchnorm epsilon outside the root", bn(RIGHT_BODY.replace(
        "ops.sqrt(var + self.epsilon)", "(ops.sqrt(var) + self.epsilon)")), False, "bn-epsilon-outside-sqrt"),
    ("batchnorm momentum reversed", bn(RIGHT_BODY.replace(
        "self.momentum * self.moving_mean + (1 - self.momentum) * mean",
        "(1 - self.momentum) * self.moving_mean + self.momentum * mean").replace(
        "self.momentum * self.moving_variance + (1 - self.momentum) * var",
        "(1 - self.momentum) * self.moving_variance + self.momentum * var")), False, "bn-momentum-reversed"),
    ("batchnorm updates statistics at inference", bn('''        mean, var = ops.moments(inputs, axes=axes)
        self.moving_mean.assign(self.momentum * self.moving_mean + (1 - self.momentum) * mean)
        self.moving_variance.assign(self.momentum * self.moving_variance + (1 - self.momentum) * var)
        if not training:
            mean, var = self.moving_mean, self.moving_variance
        return self.gamma * (inputs - mean) / ops.sqrt(var + self.epsilon) + self.beta'''),
     False, "bn-statistics-updated-at-inference"),
    ("batchnorm batch statistics at inference", bn('''        mean, var = ops.moments(inputs, axes=axes)
        if training:
            self.moving_mean.assign(self.momentum * self.moving_mean + (1 - self.momentum) * mean)
            self.moving_variance.assign(self.momentum * self.moving_variance + (1 - self.momentum) * var)
        return self.gamma * (inputs - mean) / ops.sqrt(var + self.epsilon) + self.beta'''),
     False, "bn-batch-statistics-at-inference"),
    ("batchnorm gamma and beta frozen", bn(gamma_trainable=", trainable=False"), False, "bn-gamma-beta-not-trainable"),
    ("batchnorm statistics trainable", bn(stats_trainable="True"), False, "bn-statistics-trainable"),
    ("batchnorm without epsilon", bn(RIGHT_BODY.replace("ops.sqrt(var + self.epsilon)", "ops.sqrt(var)")),
     False, "bn-no-epsilon"),
    ("batchnorm statistics never updated", bn('''        if training:
            mean, var = ops.moments(inputs, axes=axes)
        else:
            mean, var = self.moving_mean, self.moving_variance
        return self.gamma * (inputs - mean) / ops.sqrt(var + self.epsilon) + self.beta'''),
     False, "bn-statistics-not-updated"),
    ("batchnorm mean without gradient", bn(RIGHT_BODY.replace(
        "return self.gamma * (inputs - mean)", "return self.gamma * (inputs - ops.stop_gradient(mean))")),
     False, "bn-gradient"),
    ("batchnorm without gamma and beta", bn(RIGHT_BODY.replace(
        "return self.gamma * (inputs - mean) / ops.sqrt(var + self.epsilon) + self.beta",
        "return (inputs - mean) / ops.sqrt(var + self.epsilon)")), False, "bn-gamma-beta-unused"),
    ("batchnorm statistics over the features axis", bn(RIGHT_BODY).replace(
        "axes = list(range(len(inputs.shape) - 1))", "axes = [-1]"), False, "bn-features-axis"),
    ("batchnorm statistics per example kept as a column", bn(RIGHT_BODY.replace(
        "mean, var = ops.moments(inputs, axes=axes)",
        "mean, var = ops.moments(inputs, axes=[-1], keepdims=True)").replace(
        "(1 - self.momentum) * mean)", "(1 - self.momentum) * ops.mean(mean))").replace(
        "(1 - self.momentum) * var)", "(1 - self.momentum) * ops.mean(var))")), False, "bn-features-axis"),
    ("batchnorm statistics over axis 0 only", bn(RIGHT_BODY).replace(
        "axes = list(range(len(inputs.shape) - 1))", "axes = [0]"), False, "bn-fails-on-3d"),
    ("batchnorm wraps keras", '''
class MyBatchNormalization(keras.layers.Layer):
    def __init__(self, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.inner = keras.layers.BatchNormalization(momentum=momentum, epsilon=epsilon)

    def call(self, inputs, training=False):
        return self.inner(inputs, training=training)
''', False, "uses-keras-layer"),
]


def code_of(entries: list, label: str) -> str:
    """The code of the corpus entry with this label."""
    return next(code for name, code, *_ in entries if name == label)

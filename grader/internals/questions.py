"""The questions of dropout-batchnorm-internals, as data: each answer cell with its solution, the
check that judges it and its points. The notebooks, the checks and nbgrader's test cells read
these objects; the texts are in the catalogs (internals.nb.*)."""
from __future__ import annotations

from dataclasses import dataclass

ASSIGNMENT = "dropout-batchnorm-internals"
ASSIGNMENTS = {"en": ASSIGNMENT, "zh_CN": "dropout-batchnorm-internals-zh"}
NOTEBOOK = "internals"


@dataclass(frozen=True)
class Question:
    """An answer cell that defines a function or a layer class. The grader judges it in two
    halves: a probe in the student's kernel runs the definition on the check's inputs and writes
    the numbers (grader/internals/probe.py); the verdict is computed from them in the grader's
    own process, against Keras' layer (grader/internals/grading.py)."""

    key: str  # "q1"
    name: str  # what the answer cell defines: inverted_dropout, MyDropout, MyBatchNormalization
    check: str  # the function of grader.internals.checks that judges it
    solution: str  # the answer cell, ### BEGIN/END SOLUTION around what the student writes
    points: int
    notebook: str = NOTEBOOK

    @property
    def id(self) -> str:
        return f"{NOTEBOOK}_{self.key}"

    @property
    def title(self) -> str:
        """The stable English name (pytest's test id)."""
        return {"q1": "internals Q1 inverted dropout", "q2": "internals Q2 dropout layer",
                "q3": "internals Q3 batch normalization layer"}[self.key]

    @property
    def heading(self) -> str:
        from ..base.i18n import t

        return t(f"title.{self.id}")

    @property
    def answer_cell(self) -> str:
        return f"{self.id}_answer"

    @property
    def grade_cells(self) -> dict:
        """Part of the verdict -> nbgrader grade cell that holds its points."""
        return {"check": f"{self.id}_test"}

    @property
    def kind(self) -> str:
        """The check's subject: dropout_function, dropout_layer, batchnorm_layer."""
        return self.check.removeprefix("check_")

    def probe_source(self, folder, nonce: str) -> str:
        """Kernel code run right after the answer cell (by the harness)."""
        return ("from grader.internals.probe import observe as _kit_observe\n"
                f"_kit_observe(globals(), {self.key!r}, {str(folder)!r}, {nonce!r})\ndel _kit_observe")

    def grade(self, run):
        from .grading import grade_probed

        return grade_probed(self, run, builds_on=DROPOUT if self.key == "q2" else None)


DROPOUT = Question("q1", "inverted_dropout", "check_dropout_function", '''\
def inverted_dropout(x, rate, training, seed_generator):
    """Inverted dropout: at training, drop each unit with probability `rate` and scale the
    others by 1 / (1 - rate); at inference, return x unchanged."""
    ### BEGIN SOLUTION
    if not training:
        return x
    keep = keras.random.uniform(ops.shape(x), seed=seed_generator) >= rate
    return ops.where(keep, x / (1 - rate), ops.zeros_like(x))
    ### END SOLUTION''', points=2)

DROPOUT_LAYER = Question("q2", "MyDropout", "check_dropout_layer", '''\
class MyDropout(keras.layers.Layer):
    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate
        ### BEGIN SOLUTION
        self.seed_generator = keras.random.SeedGenerator(seed)
        ### END SOLUTION

    def call(self, inputs, training=False):
        ### BEGIN SOLUTION
        outputs = inverted_dropout(inputs, self.rate, training, self.seed_generator)
        ### END SOLUTION
        return outputs''', points=1)

BATCHNORM = Question("q3", "MyBatchNormalization", "check_batchnorm_layer", '''\
class MyBatchNormalization(keras.layers.Layer):
    def __init__(self, momentum=0.99, epsilon=1e-3, **kwargs):
        super().__init__(**kwargs)
        self.momentum, self.epsilon = momentum, epsilon

    def build(self, input_shape):
        n = input_shape[-1]
        ### BEGIN SOLUTION
        self.gamma = self.add_weight(shape=(n,), initializer="ones", name="gamma")
        self.beta = self.add_weight(shape=(n,), initializer="zeros", name="beta")
        self.moving_mean = self.add_weight(shape=(n,), initializer="zeros", name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight(shape=(n,), initializer="ones", name="moving_variance",
                                               trainable=False)
        ### END SOLUTION

    def call(self, inputs, training=False):
        axes = list(range(len(inputs.shape) - 1))  # every axis but the features'
        ### BEGIN SOLUTION
        if training:
            mean, variance = ops.moments(inputs, axes=axes)
            self.moving_mean.assign(self.momentum * self.moving_mean + (1 - self.momentum) * mean)
            self.moving_variance.assign(self.momentum * self.moving_variance + (1 - self.momentum) * variance)
        else:
            mean, variance = self.moving_mean, self.moving_variance
        outputs = self.gamma * (inputs - mean) / ops.sqrt(variance + self.epsilon) + self.beta
        ### END SOLUTION
        return outputs''', points=4)

QUESTIONS = [DROPOUT, DROPOUT_LAYER, BATCHNORM]
BY_KEY = {q.key: q for q in QUESTIONS}


def _swap_in():
    """Q4: the concrete model of the first assignment (spotify Q3) with the student's layers, trained
    with the same protocol; judged against the band of the Keras-layer model (SPOTIFY_Q3's)."""
    from ..base.kinds import CodingQuestion
    from ..base.spec import Dense, Layer, ModelSpec
    from ..lesson.questions import CONCRETE_PROTOCOL  # the same model, trained the same way

    mine = Layer("MyBatchNormalization")
    blocks = [layer for _ in range(3) for layer in (mine, Dense(512, "relu"))]
    return CodingQuestion(
        notebook=NOTEBOOK, key="q4", title="internals Q4 your layers in the concrete model",
        expected=ModelSpec(blocks + [mine, Dense(1)], input_dim=8),
        starter=ModelSpec([Dense(512, "relu")] * 3 + [Dense(1)], input_dim=8),
        solution="""\
model = keras.Sequential([
    keras.Input(shape=input_shape),
    ### BEGIN SOLUTION
    MyBatchNormalization(),
    ### END SOLUTION
    layers.Dense(512, activation='relu'),
    ### BEGIN SOLUTION
    MyBatchNormalization(),
    ### END SOLUTION
    layers.Dense(512, activation='relu'),
    ### BEGIN SOLUTION
    MyBatchNormalization(),
    ### END SOLUTION
    layers.Dense(512, activation='relu'),
    ### BEGIN SOLUTION
    MyBatchNormalization(),
    ### END SOLUTION
    layers.Dense(1),
])""",
        protocol=CONCRETE_PROTOCOL, points_architecture=1, points_val_loss=2,
        stand_ins=(("MyBatchNormalization", "BatchNormalization"),), history_mismatch="internals.q4.stand-in-differs",
        judged_as="spotify_q3", diverged="val.diverged.concrete", weight_missing="internals.bn.weight-missing")


SWAP_IN = _swap_in()


def solution_code(question: Question) -> str:
    return "\n".join(line for line in question.solution.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))

"""Student answers (right variants and typical mistakes) with the verdict and message each must get.

Each entry: (name, question id, answer-cell code, passes?, a fragment the message must contain).
The code runs with `keras`, `layers` and `input_shape` defined, as in the notebooks.
"""

WINE_BLOCK = """
    layers.Dense(1024, activation='relu'),
    layers.Dropout(0.3),
    layers.BatchNormalization(),"""

WINE_RIGHT = "model = keras.Sequential([\n    keras.Input(shape=(11,)),{b}{b}{b}\n    layers.Dense(1),\n])".format(b=WINE_BLOCK)


def wine(body: str) -> str:
    return "model = keras.Sequential([\n    keras.Input(shape=(11,)),\n" + body + "\n])"


def spotify(*lines: str) -> str:
    return "model = keras.Sequential([\n    keras.Input(shape=input_shape),\n    " + ",\n    ".join(lines) + ",\n])"


D128, D64, D1, DO3 = "layers.Dense(128, activation='relu')", "layers.Dense(64, activation='relu')", "layers.Dense(1)", "layers.Dropout(0.3)"
BN, D512 = "layers.BatchNormalization()", "layers.Dense(512, activation='relu')"

CORPUS = [
    # ---------------- spotify Q1: dropout ----------------
    ("spotify both dropout 0.3", "spotify_q1", spotify(D128, DO3, D64, DO3, D1), True, "expected 5 layers"),
    ("spotify input_shape kwarg", "spotify_q1",
     "model = keras.Sequential([layers.Dense(128, activation='relu', input_shape=input_shape), layers.Dropout(0.3),"
     " layers.Dense(64, activation='relu'), layers.Dropout(rate=0.3), layers.Dense(1)])", True, "expected"),
    ("spotify add calls", "spotify_q1",
     "model = keras.Sequential()\nmodel.add(keras.Input(shape=input_shape))\nfor units in (128, 64):\n"
     "    model.add(layers.Dense(units, activation='relu'))\n    model.add(layers.Dropout(0.3))\nmodel.add(layers.Dense(1))",
     True, "expected"),
    ("spotify functional", "spotify_q1",
     "inputs = keras.Input(shape=input_shape)\nx = layers.Dense(128, activation='relu')(inputs)\nx = layers.Dropout(0.3)(x)\n"
     "x = layers.Dense(64, activation='relu')(x)\nx = layers.Dropout(0.3)(x)\noutputs = layers.Dense(1)(x)\n"
     "model = keras.Model(inputs, outputs)", True, "expected"),
    ("spotify activation function object", "spotify_q1",
     "model = keras.Sequential([keras.Input(shape=input_shape), layers.Dense(128, activation=keras.activations.relu), "
     "layers.Dropout(0.3), layers.Dense(64, activation=keras.activations.relu), layers.Dropout(0.3), "
     "layers.Dense(1, activation='linear')])", True, "expected"),
    ("spotify Activation layer", "spotify_q1",
     "model = keras.Sequential([keras.Input(shape=input_shape), layers.Dense(128), layers.Activation('relu'), "
     "layers.Dropout(0.3), layers.Dense(64), layers.Activation('relu'), layers.Dropout(0.3), layers.Dense(1, activation=None)])",
     True, "expected"),
    ("spotify nested Sequential block", "spotify_q1",
     "block = lambda n: keras.Sequential([layers.Dense(n, activation='relu'), layers.Dropout(0.3)])\n"
     "model = keras.Sequential([keras.Input(shape=input_shape), block(128), block(64), layers.Dense(1)])", True, "expected"),
    ("spotify ReLU layers", "spotify_q1",
     spotify("layers.Dense(128)", "layers.ReLU()", DO3, "layers.Dense(64)", "layers.ReLU()", DO3, D1), True, "expected 5 layers"),
    ("spotify Activation(relu function)", "spotify_q1",
     spotify("layers.Dense(128)", "layers.Activation(keras.activations.relu)", DO3, "layers.Dense(64)",
             "layers.Activation('relu')", DO3, D1), True, "expected 5 layers"),
    ("spotify LeakyReLU layer", "spotify_q1",
     spotify("layers.Dense(128)", "layers.LeakyReLU()", DO3, D64, DO3, D1), False,
     "found activation='leaky_relu(negative_slope=0.3)'"),
    ("spotify ReLU capped at 6", "spotify_q1",
     spotify("layers.Dense(128)", "layers.ReLU(max_value=6)", DO3, D64, DO3, D1), False, "found activation='relu6'"),
    ("spotify ELU layer", "spotify_q1", spotify("layers.Dense(128)", "layers.ELU()", DO3, D64, DO3, D1), False,
     "found activation='elu'"),
    ("spotify only first dropout", "spotify_q1", spotify(D128, DO3, D64, D1), False,
     "You put Dropout(0.3) after Dense(128), but not after Dense(64)"),
    ("spotify only second dropout", "spotify_q1", spotify(D128, D64, DO3, D1), False,
     "but not after Dense(128)"),
    ("spotify dropout 0.7 twice", "spotify_q1", spotify(D128, "layers.Dropout(0.7)", D64, "layers.Dropout(0.7)", D1), False,
     "rate=0.7 is not the question's rate=0.3"),
    ("spotify dropout before dense", "spotify_q1", spotify(DO3, D128, DO3, D64, D1), False,
     "Your Dropout layers come before the Dense layers"),
    ("spotify starter unchanged", "spotify_q1", spotify(D128, D64, D1), False, "still the starter model"),
    ("spotify extra dropout after output", "spotify_q1", spotify(D128, DO3, D64, DO3, D1, DO3), False,
     "There is a Dropout after the output layer Dense(1)"),
    ("spotify last dropout moved after the output", "spotify_q1", spotify(D128, DO3, D64, D1, DO3), False,
     "There is a Dropout after the output layer Dense(1), where nothing belongs, and Dropout(0.3) is missing after Dense(64)"),
    ("spotify both dropouts in the first block", "spotify_q1", spotify(D128, DO3, DO3, D64, D1), False,
     "one too many after Dense(128) and none after Dense(64)"),
    ("spotify GaussianDropout", "spotify_q1", spotify(D128, "layers.GaussianDropout(0.3)", D64, DO3, D1), False,
     "GaussianDropout, which is not the lesson's layer: use layers.Dropout"),
    ("spotify AlphaDropout", "spotify_q1", spotify(D128, "layers.AlphaDropout(0.3)", D64, DO3, D1), False,
     "AlphaDropout"),
    ("spotify SpatialDropout1D", "spotify_q1",
     "model = keras.Sequential([keras.Input(shape=input_shape), layers.Dense(128, activation='relu'), layers.Reshape((128, 1)),"
     " layers.SpatialDropout1D(0.3), layers.Flatten(), layers.Dense(64, activation='relu'), layers.Dropout(0.3), layers.Dense(1)])",
     False, "SpatialDropout1D"),
    ("spotify missing activation", "spotify_q1", spotify("layers.Dense(128)", DO3, D64, DO3, D1), False,
     "it has no activation. Add activation='relu'"),
    ("spotify wrong units", "spotify_q1", spotify("layers.Dense(256, activation='relu')", DO3, D64, DO3, D1), False,
     "it has 256 units, expected 128"),
    ("spotify sigmoid output", "spotify_q1", spotify(D128, DO3, D64, DO3, "layers.Dense(1, activation='sigmoid')"), False,
     "linear output layer"),
    ("spotify not a model (list)", "spotify_q1", f"model = [{D128}, {DO3}]", False, "found a list"),
    ("spotify model None", "spotify_q1", "model = None", False, "`model` is None"),
    ("spotify branching functional", "spotify_q1",
     "inputs = keras.Input(shape=input_shape)\na = layers.Dense(128, activation='relu')(inputs)\nb = layers.Dense(128, activation='relu')(inputs)\n"
     "x = layers.Add()([a, b])\nmodel = keras.Model(inputs, layers.Dense(1)(x))", False, "branches or merges"),
    # ---------------- spotify Q3: batch normalization on concrete ----------------
    ("concrete BN before each dense", "spotify_q3", spotify(BN, D512, BN, D512, BN, D512, BN, D1), True, "expected 8 layers"),
    ("concrete BN first via input_shape", "spotify_q3",
     "model = keras.Sequential([layers.BatchNormalization(input_shape=input_shape), layers.Dense(512, activation='relu'),"
     " layers.BatchNormalization(), layers.Dense(512, activation='relu'), layers.BatchNormalization(),"
     " layers.Dense(512, activation='relu'), layers.BatchNormalization(), layers.Dense(1)])", True, "expected"),
    ("concrete BN in a loop", "spotify_q3",
     "model = keras.Sequential([keras.Input(shape=input_shape)])\nfor _ in range(3):\n    model.add(layers.BatchNormalization())\n"
     "    model.add(layers.Dense(512, activation='relu'))\nmodel.add(layers.BatchNormalization())\nmodel.add(layers.Dense(1))",
     True, "expected"),
    ("concrete BN after each hidden dense", "spotify_q3", spotify(D512, BN, D512, BN, D512, BN, D1), False,
     "Your BatchNormalization layers come after the Dense layers"),
    ("concrete BN after each dense incl. output", "spotify_q3", spotify(D512, BN, D512, BN, D512, BN, D1, BN), False,
     "none comes before the first one"),
    ("concrete BN between dense and ReLU", "spotify_q3",
     spotify(*["layers.Dense(512)", BN, "layers.ReLU()"] * 3, D1), False,
     "BatchNormalization sits between a Dense layer and its activation"),
    ("concrete BN between dense and Activation", "spotify_q3",
     spotify(BN, *["layers.Dense(512)", BN, "layers.Activation('relu')"] * 3, D1), False,
     "BatchNormalization sits between a Dense layer and its activation"),
    ("concrete ReLU layers", "spotify_q3",
     spotify(*[BN, "layers.Dense(512)", "layers.ReLU()"] * 3, BN, D1), True, "expected 8 layers"),
    ("concrete no BN before output", "spotify_q3", spotify(BN, D512, BN, D512, BN, D512, D1), False,
     "but not before the output Dense(1)"),
    ("concrete last BN moved after the output", "spotify_q3", spotify(BN, D512, BN, D512, BN, D512, D1, BN), False,
     "BatchNormalization is missing before the output Dense(1)"),
    ("concrete only first BN", "spotify_q3", spotify(BN, D512, D512, D512, D1), False, "but not before the 2nd Dense(512)"),
    ("concrete LayerNormalization", "spotify_q3",
     spotify("layers.LayerNormalization()", D512, BN, D512, BN, D512, BN, D1), False,
     "LayerNormalization, which is not the lesson's layer: use layers.BatchNormalization"),
    ("concrete GroupNormalization", "spotify_q3",
     spotify(BN, "layers.Dense(512)", "layers.GroupNormalization(groups=8)", "layers.Activation('relu')", BN, D512, BN, D512, BN, D1),
     False, "GroupNormalization"),
    ("concrete starter unchanged", "spotify_q3", spotify(D512, D512, D512, D1), False, "still the starter model"),
    ("concrete dropout instead of BN", "spotify_q3", spotify(DO3, D512, DO3, D512, DO3, D512, DO3, D1), False,
     "There is no BatchNormalization layer"),
    ("concrete a string", "spotify_q3", "model = 'BatchNormalization'", False, "found a str"),
    # ---------------- wine Q1: dropout and batch normalization ----------------
    ("wine lesson model", "wine_q1", WINE_RIGHT, True, "expected 10 layers"),
    ("wine lesson model with input_shape", "wine_q1",
     WINE_RIGHT.replace("    keras.Input(shape=(11,)),\n    layers.Dense(1024, activation='relu'),",
                        "    layers.Dense(1024, activation='relu', input_shape=[11]),", 1), True, "expected"),
    ("wine blocks in a loop", "wine_q1",
     "model = keras.Sequential([keras.Input(shape=(11,))])\nfor _ in range(3):\n    model.add(layers.Dense(1024, activation='relu'))\n"
     "    model.add(layers.Dropout(0.3))\n    model.add(layers.BatchNormalization())\nmodel.add(layers.Dense(1))", True, "expected"),
    ("wine dropout and BN swapped", "wine_q1",
     wine("    layers.Dense(1024, activation='relu'), layers.BatchNormalization(), layers.Dropout(0.3),"
          "    layers.Dense(1024, activation='relu'), layers.Dropout(0.3), layers.BatchNormalization(),"
          "    layers.Dense(1024, activation='relu'), layers.Dropout(0.3), layers.BatchNormalization(), layers.Dense(1)"),
     False, "in the wrong order after the 1st Dense(1024): each block takes Dropout(0.3), then BatchNormalization"),
    ("wine no dropout", "wine_q1",
     wine("    layers.Dense(1024, activation='relu'), layers.BatchNormalization(),"
          "    layers.Dense(1024, activation='relu'), layers.BatchNormalization(),"
          "    layers.Dense(1024, activation='relu'), layers.BatchNormalization(), layers.Dense(1)"),
     False, "add Dropout(0.3) after each hidden Dense layer"),
    ("wine no batchnorm", "wine_q1",
     wine("    layers.Dense(1024, activation='relu'), layers.Dropout(0.3),"
          "    layers.Dense(1024, activation='relu'), layers.Dropout(0.3),"
          "    layers.Dense(1024, activation='relu'), layers.Dropout(0.3), layers.Dense(1)"),
     False, "add BatchNormalization after each hidden Dense layer"),
    ("wine dropout before dense", "wine_q1",
     wine("    layers.Dropout(0.3), layers.Dense(1024, activation='relu'), layers.BatchNormalization(),"
          "    layers.Dropout(0.3), layers.Dense(1024, activation='relu'), layers.BatchNormalization(),"
          "    layers.Dropout(0.3), layers.Dense(1024, activation='relu'), layers.BatchNormalization(), layers.Dense(1)"),
     False, "this question puts Dropout(0.3) after each hidden Dense layer"),
    ("wine starter unchanged", "wine_q1",
     wine("    layers.Dense(1024, activation='relu'), layers.Dense(1024, activation='relu'),"
          "    layers.Dense(1024, activation='relu'), layers.Dense(1)"), False, "still the starter model"),
    ("wine rate 0.5", "wine_q1", WINE_RIGHT.replace("Dropout(0.3)", "Dropout(0.5)", 1), False,
     "rate=0.5 is not the question's rate=0.3"),
    ("wine only two blocks", "wine_q1",
     wine("    layers.Dense(1024, activation='relu'), layers.Dropout(0.3), layers.BatchNormalization(),"
          "    layers.Dense(1024, activation='relu'), layers.Dropout(0.3), layers.BatchNormalization(), layers.Dense(1)"),
     False, "Layer 7"),
    ("wine extra BN at the end", "wine_q1", WINE_RIGHT.replace("    layers.Dense(1),", "    layers.Dense(1),\n    layers.BatchNormalization(),"),
     False, "There is a BatchNormalization after the output layer Dense(1): remove it"),
    ("wine a dict", "wine_q1", "model = {'layers': []}", False, "found a dict"),
    ("wine ReLU layers", "wine_q1",
     wine("    layers.Dense(1024), layers.ReLU(), layers.Dropout(0.3), layers.BatchNormalization(),"
          "    layers.Dense(1024), layers.ReLU(), layers.Dropout(0.3), layers.BatchNormalization(),"
          "    layers.Dense(1024), layers.ReLU(), layers.Dropout(0.3), layers.BatchNormalization(), layers.Dense(1)"),
     True, "expected 10 layers"),
    ("wine second block missing", "wine_q1",
     wine("    layers.Dense(1024, activation='relu'), layers.Dropout(0.3), layers.BatchNormalization(),"
          "    layers.Dense(1024, activation='relu'),"
          "    layers.Dense(1024, activation='relu'), layers.Dropout(0.3), layers.BatchNormalization(), layers.Dense(1)"),
     False, "but not after the 2nd Dense(1024)"),
    ("wine last dropout after the output", "wine_q1",
     wine("    layers.Dense(1024, activation='relu'), layers.Dropout(0.3), layers.BatchNormalization(),"
          "    layers.Dense(1024, activation='relu'), layers.Dropout(0.3), layers.BatchNormalization(),"
          "    layers.Dense(1024, activation='relu'), layers.BatchNormalization(), layers.Dense(1), layers.Dropout(0.3)"),
     False, "Dropout(0.3) is missing after the 3rd Dense(1024)"),
    ("wine dropout after the output and a BN missing", "wine_q1",
     wine("    layers.Dense(1024, activation='relu'), layers.Dropout(0.3), layers.BatchNormalization(),"
          "    layers.Dense(1024, activation='relu'), layers.Dropout(0.3),"
          "    layers.Dense(1024, activation='relu'), layers.BatchNormalization(), layers.Dense(1), layers.Dropout(0.3)"),
     False, "There is a Dropout after the output layer Dense(1)"),
    ("wine BN between dense and activation", "wine_q1",
     wine("    layers.Dense(1024), layers.BatchNormalization(), layers.Activation('relu'), layers.Dropout(0.3),"
          "    layers.Dense(1024), layers.BatchNormalization(), layers.Activation('relu'), layers.Dropout(0.3),"
          "    layers.Dense(1024), layers.BatchNormalization(), layers.Activation('relu'), layers.Dropout(0.3), layers.Dense(1)"),
     False, "BatchNormalization sits between a Dense layer and its activation"),
]

# The mistake each wrong answer must be named by (its id groups students in the class overview).
NAMED_MISTAKES = {
    "spotify only first dropout": "dropout-missing-in-some-blocks",
    "spotify only second dropout": "dropout-missing-in-some-blocks",
    "spotify dropout 0.7 twice": "dropout-rate",
    "spotify dropout before dense": "dropout-before-dense",
    "spotify starter unchanged": "starter-model",
    "spotify extra dropout after output": "dropout-after-output",
    "spotify last dropout moved after the output": "dropout-after-output",
    "spotify both dropouts in the first block": "dropout-misplaced",
    "concrete last BN moved after the output": "batchnormalization-after-output",
    "wine last dropout after the output": "dropout-after-output",
    "wine dropout after the output and a BN missing": "dropout-after-output",
    "concrete BN after each hidden dense": "batchnormalization-after-dense",
    "concrete BN after each dense incl. output": "batchnormalization-after-dense",
    "concrete BN between dense and ReLU": "batchnormalization-between-dense-and-activation",
    "concrete BN between dense and Activation": "batchnormalization-between-dense-and-activation",
    "concrete no BN before output": "batchnormalization-missing-in-some-blocks",
    "concrete only first BN": "batchnormalization-missing-in-some-blocks",
    "concrete dropout instead of BN": "batchnormalization-missing",
    "wine dropout and BN swapped": "order-within-block",
    "wine no dropout": "dropout-missing",
    "wine no batchnorm": "batchnormalization-missing",
    "wine dropout before dense": "dropout-before-dense",
    "wine rate 0.5": "dropout-rate",
    "wine extra BN at the end": "batchnormalization-after-output",
    "wine second block missing": "dropout-missing-in-some-blocks",
    "wine BN between dense and activation": "batchnormalization-between-dense-and-activation",
    # no name: known by the first differing row, or by the look-alike layer
    "spotify GaussianDropout": "GaussianDropout() instead of Dropout(rate=0.3)",
    "concrete LayerNormalization": "LayerNormalization() instead of BatchNormalization()",
    "spotify wrong units": "Dense(256, activation='relu') instead of Dense(128, activation='relu')",
    "wine only two blocks": "missing Dense(1024, activation='relu')",
}

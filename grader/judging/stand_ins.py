"""A student's own layer class, read back in the grader as Keras' layer of the same role carrying
the student's trained weights. The grader never runs student code; a model saved with a custom
layer (internals Q4) is rebuilt this way so that its architecture and its validation loss can be
judged here. The variables are matched by name (the order of ``add_weight`` calls is the
student's), as the kernel's export lists them (``variables.json``)."""
from __future__ import annotations

import inspect


def _short(path: str) -> str:
    return path.split("/")[-1].split(":")[0]


def stand_in(name: str, keras_class: str, order: list):
    """A subclass of ``keras.layers.<keras_class>`` named ``name`` that accepts the student's
    config (unknown arguments dropped) and loads the student's variables by name."""
    import keras

    base = getattr(keras.layers, keras_class)
    accepted = set(inspect.signature(base.__init__).parameters) | {"name", "trainable", "dtype"}

    def __init__(self, *args, **kwargs):
        base.__init__(self, **{k: v for k, v in kwargs.items() if k in accepted})

    def load_own_variables(self, store):
        values = {label: store[str(index)] for index, label in enumerate(order)}
        for variable in self.variables:
            if _short(variable.path) not in values:
                raise KeyError(_short(variable.path))
            variable.assign(values[_short(variable.path)])

    return type(name, (base,), {"__init__": __init__, "load_own_variables": load_own_variables,
                                "_kit_stand_in": True, "__module__": __name__})


def custom_objects(stand_ins: dict, orders: dict) -> dict:
    """``stand_ins``: the student's class name -> Keras class name; ``orders``: class name -> its
    variables' names in the saved order (from the export)."""
    return {name: stand_in(name, keras_class, list(orders.get(name, [])))
            for name, keras_class in stand_ins.items()}

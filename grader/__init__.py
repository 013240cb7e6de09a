"""Teaching kit and autograder for the Dropout and Batch Normalization lesson.

The parts, each importing only those listed before it (tests/test_layers.py checks it):

* ``base/``: words, data, training by a protocol, the kinds of question, notebook conventions;
* ``assignments/``: the registry (its ``__init__``); each other module there registers one assignment;
* ``judging/``: matcher, named mistakes, calibrated bands, verdicts, the in-notebook checks;
* ``running/``: the sandbox, the harness that runs a notebook, the trainer, the training cache;
* ``grading/``: a submission from its notebooks to its results;
* ``lesson/``, ``internals/``: one package per assignment (registered in ``assignments/``);
* ``feedback/``: pages, terminal summary, class overview, plots, nbgrader's feedback;
* ``commands/``: ``python -m grader``, batch, the pytest plugin.

The modules at this level are public names only: ``grader.wine``/``grader.spotify`` (below),
``autograde``, ``data``, ``plots``, ``quiet``, ``i18n`` (imported by released notebooks),
``sandbox``, ``nbgrader_feedback`` and ``nbgrader_execute`` (named by nbgrader_config.py), ``test_notebooks`` (what
``pytest grader`` collects).
"""

__all__ = ["wine", "spotify"]


def __getattr__(name):
    # The notebooks write `from grader import wine`; importing the checks lazily keeps
    # `import grader` cheap for the command line.
    if name in __all__:
        from .lesson import notebook

        return getattr(notebook, name)
    raise AttributeError(name)

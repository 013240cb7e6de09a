"""The entry points: the command line (`python -m grader ...`), grading a class on Dask (batch) and
the pytest plugin behind `pytest grader`. They may import every part, and no assignment by name."""

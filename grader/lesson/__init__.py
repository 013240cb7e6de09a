"""The first assignment, the lesson (wine and spotify notebooks): its questions, its notebooks
written as code, its in-notebook checks, the nbgrader test cells' asserts, its calibration and
reference file. Imports base/, judging/ and the registry; registered by assignments/lesson.py."""

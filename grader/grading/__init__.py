"""Grading a submission: find its notebooks, run each (running/), judge what each question left
behind (judging/) into results and a report object. Imports base/, judging/, running/ and the
registry; it knows no assignment by name."""

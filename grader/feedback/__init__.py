"""What people read: the feedback page and terminal summary, the class overview, the learning
curves, the fonts that make Chinese render, nbgrader's feedback pages. Imports base/, judging/,
grading/ and the registry."""

"""Judging: what a model, a history or a record is worth against what a question expects: the
layer matcher, the named mistakes, the calibrated val_loss bands, the verdict and its rendering,
the checks students also run in the notebook. Imports base/ and the assignment registry."""

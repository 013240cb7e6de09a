"""The second assignment, dropout-batchnorm-internals: students build inverted dropout and batch
normalization themselves, checked against Keras' own layers."""

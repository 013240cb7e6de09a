"""The second assignment, dropout-batchnorm-internals: students build inverted dropout and batch
normalization themselves, checked against Keras' own layers. Registered by assignments/internals.py;
imports base/, judging/, grading/ and the registry, and the lesson (its Q4 is spotify Q3's model)."""

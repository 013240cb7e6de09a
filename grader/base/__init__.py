"""The foundation every other part stands on: the words (i18n), the data sets and their splits,
training by a protocol, the kinds of question, how the kit writes notebooks, the record format
shared with the kernel, a quiet TensorFlow. Imports nothing else of the kit."""

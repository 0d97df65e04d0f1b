"""Offline tooling of the neural translator: the corpus, the training labels, training and
evaluation. The runtime never imports it."""

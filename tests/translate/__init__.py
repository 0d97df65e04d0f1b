"""The translators: labels, vocabularies, training, the auto chain, the shipped models, liblouis
against the UEB rulebook."""

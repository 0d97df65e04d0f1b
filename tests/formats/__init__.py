"""Readers, layout (BANA Braille Formats, UEB), writers, and the real-document suite."""

"""Faults, hostile input and poison messages against real processes."""

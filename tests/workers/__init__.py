"""A real worker behind Redis: the queued path end to end."""

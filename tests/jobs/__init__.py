"""Job inputs: paths, globs, manifests and safe names."""

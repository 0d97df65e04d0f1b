"""Operating the fleet: remote control, metrics, the exporter."""

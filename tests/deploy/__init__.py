"""Deployment files through their real validators."""

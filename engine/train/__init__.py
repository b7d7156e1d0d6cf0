"""Procedural shape data and training of the embedded text-to-point-cloud model."""

"""Point-E Studio's ML core: models, samplers, pipelines, checkpoints, export. Never imports Qt."""

__version__ = "0.1.0"

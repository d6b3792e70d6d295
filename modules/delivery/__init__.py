"""Constructs of the delivery account: image registry, pipeline building blocks, CI roles."""

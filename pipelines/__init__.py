"""Delivery tooling run by the CI/CD pipelines: pure Python and boto3, no provider bindings."""

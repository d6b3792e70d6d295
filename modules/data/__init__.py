"""Data-tier constructs: Aurora PostgreSQL and the ElastiCache replication group."""

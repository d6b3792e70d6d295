"""Data access as plain keyword-only functions, one module per aggregate."""

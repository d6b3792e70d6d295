"""Reusable constructs the stacks are composed of: one construct per file, typed props."""

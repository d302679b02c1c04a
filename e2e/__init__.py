"""End-to-end tier: the real plugin against a real cluster (`pytest e2e/ --e2e`, see README.md)."""

"""Fixtures shared by the CLI tests: ``shell`` (its own resident runtime folder)."""

from tests.cli.test_resident import shell  # noqa: F401 (a fixture, registered by import)

"""The emulator fixtures sfaudit ships for plugin authors: ``emulator``, ``sf_env``."""

pytest_plugins = ["sfaudit.testing.pytest_fixtures"]

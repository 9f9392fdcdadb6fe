"""Loads the kube API fixtures when only ``tests/kubeapi`` is collected.

The repo-wide ``tests/conftest.py`` registers ``tests.kubeapi.fixtures`` as a plugin; this file
does the same if that has not happened, without declaring ``pytest_plugins`` in a nested conftest.
"""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("tests.kubeapi.fixtures"):
        config.pluginmanager.import_plugin("tests.kubeapi.fixtures")

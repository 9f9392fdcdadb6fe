"""Sphinx configuration: MyST Markdown pages, furo theme, references generated from the code."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))
sys.path.insert(0, str(HERE.parent))

project = "airflow-eks-data"
author = "airflow-eks-data contributors"
copyright = "2026, airflow-eks-data contributors"
extensions = ["myst_parser", "sphinx.ext.autodoc", "eksdata_docs"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3
html_theme = "furo"
html_title = "airflow-eks-data"
nitpicky = False

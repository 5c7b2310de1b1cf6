"""The shipped themes: this folder is packaged as `tomconsole.themes` (see pyproject.toml)."""

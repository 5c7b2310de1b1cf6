"""Troubleshooting a host from the console: its top processes and read-only diagnostics."""

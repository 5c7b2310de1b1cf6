"""The incident lifecycle: alerts become incidents an operator triages; every action is audited."""

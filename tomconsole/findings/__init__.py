"""Security findings: the finding book (lifecycle, acceptance, scan diff), what feeds it
(scans, database facts, certificates, dropped reports) and the scanner imports."""

"""Report: results.json, summary.md, report.html and junit.xml in reports/<run-id>/."""

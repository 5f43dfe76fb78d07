"""REST API of the cases app, one module per topic; urls.py wires them under /api/v1/."""

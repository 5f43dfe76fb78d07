"""HTML pages of the cases app, one module per topic (workspace: queues, case page, my work, search)."""

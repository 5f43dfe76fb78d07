"""Writes for the cases app, one module per topic. Every state change goes through
`events.case_transition` or `events.event_record` so that it leaves exactly one CaseEvent."""

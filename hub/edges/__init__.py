"""The edges as the hub meets them: MQTT intake of calls and statuses, the ingest worker,
confirmations, messages set aside, tower-light commands and each edge's liveness."""

"""The hub: ingest of edge events, the call state machine, storage and the HTTP API."""

"""The hub: ingest of edge events, the call state machine, storage and the HTTP API, in
rooms by concept (docs/architecture.md)."""

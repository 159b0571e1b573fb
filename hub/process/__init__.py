"""The hub's process plumbing: the server, the app factory, worker processes, the running
configuration, in-process news, metrics and systemd's notifications."""

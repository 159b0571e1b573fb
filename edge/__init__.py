"""The edge agent: polls devices, turns button presses into events, publishes them."""

"""Sparkplug B 3.0: topics, payloads and the primary host's STATE.

The payloads are encoded with the code protoc generated from Eclipse Tahu's
``sparkplug_b.proto`` (beside this file; tests/contract/test_sparkplug_proto.py compiles
the definition again and compares). Both the edge (an edge node) and the hub (a host
application) use this package; docs/wire-contract.md says what is promised.
"""

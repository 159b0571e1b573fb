"""Statistical process control: control charts, tests for special causes, capability.

Pure numpy/scipy. Every function takes arrays and plain values and returns frozen
dataclasses or arrays; nothing here reads files, clocks or the network.
"""

"""The hub as a Sparkplug B 3.0 host application (docs/wire-contract.md)."""

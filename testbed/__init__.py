"""Real servers for the tests, the benchmarks and the demo, each started and stopped the
same way (``testbed.server.LocalServer``): Mosquitto, PostgreSQL, VictoriaMetrics, a
simulated PLC and socat's pty pairs. A plant runs its own servers; nothing in the hub or
the edge imports this package."""

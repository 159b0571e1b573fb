"""Copies of the hub's data for other systems: time series through the InfluxDB v2 write API."""

"""What every driver's configuration shares."""

# Device ids appear in logs, metrics and topics: keep them to safe characters.
DEVICE_ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"

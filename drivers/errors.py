"""The project's own device exceptions: drivers translate every device error into these."""


class DeviceError(Exception):
    """Base class of device errors."""


class DeviceUnavailable(DeviceError):
    """The device cannot be reached now (no connection, timeout); retrying may help."""


class DeviceMisconfigured(DeviceError):
    """The device answered but refused the request (bad address, unknown unit)."""

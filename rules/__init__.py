"""Pure computation: SPC core and andon signal logic. No I/O, no clock, no asyncio."""

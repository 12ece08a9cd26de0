"""The pure core: decisions over typed values. No I/O, no clock, no event loop."""

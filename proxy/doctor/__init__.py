"""The set-up checks' I/O: gathering the facts (`gather`) and Stop using the proxy (`stop`).

What the facts mean is decided in `proxy.core.doctor`.
"""

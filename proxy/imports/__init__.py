"""Moving in from other tools: reading their files (`sources`) and adding what the user
picked to the config, keys to the keyring, all or nothing (`apply`).

What the files mean is decided in `proxy.core.imports`.
"""

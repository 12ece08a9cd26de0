"""The settings window: a static page served by the proxy, and its pywebview launcher."""

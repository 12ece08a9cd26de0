"""The desktop shell of Claude Code Fallback: command line, tray icon, wiring."""

"""Icons and the script that renders them (`python assets/render_icons.py`)."""

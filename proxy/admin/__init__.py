"""The settings page and its admin JSON API, served by the running proxy under `/_ccf/`.

routes.py         the `/_ccf` routes on the proxy's app
context.py        what the API needs: the file, the keys, the token, the config writer
guard.py          who may call (admin token or session cookie, no web pages, JSON only)
page.py           the static page and the single-use login links
read_routes.py    settings, endpoints with live state, activity, Claude Code setup
write_routes.py   changes (through `proxy.config_changes`), keys, the Test button, settings.json
usage_routes.py   the usage ledger: summaries, the request log, CSV
transaction.py    a config change's errors as answers that name the field
"""

"""The usage ledger: one SQLite row per proxied request (DESIGN §8).

schema.py    the file, its schema and migrations
rows.py      a request as stored, and the SQL that stores rows and their sums
writer.py    the bounded queue and the one writer thread; faults drop rows, never requests
prices.py    the bundled price table (prices.json)
install.py   how the running proxy records into it (the request hook, /metrics, the tray)
queries.py   summaries, the request log and CSV, for the admin API and `ccf usage`
"""

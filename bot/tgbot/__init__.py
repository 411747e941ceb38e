"""The Telegram adapter: a thin layer over the `index.QA` service (only this package imports telegram)."""

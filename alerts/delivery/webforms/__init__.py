"""Offices' web forms, filled by a real browser: `values` (what goes in each field) and
`runner` (Playwright driving Debian's chromium). The channel is channels/web_form.py."""

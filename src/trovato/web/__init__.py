"""The HTML routes of the site (front page, items, accounts, install, plugin pages, health and
metrics): thin — parse the request, call a service, render a page."""

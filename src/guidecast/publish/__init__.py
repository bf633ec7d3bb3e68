"""Publish: the sessions of a folder as a podcast feed, a page and a local server."""

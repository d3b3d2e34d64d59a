"""Metering storage drivers: ``file`` (embedded, the default) and ``redis`` (incoming
measures on a shared Redis server, for several API and processing hosts)."""

"""Moving large data through worker threads: the lanes of a large upload (``pipeline``), the
worker pool they run on (``workers``), writing blocks of chunks with early writeback
(``diskwrite``). The object store's disk driver and the image service's upload share them.

Plain I/O helpers with no service state: the one part of ``common`` (beside logging) that
drivers may import, so this package imports nothing of ``onestack`` outside it (a layout test
checks it).
"""

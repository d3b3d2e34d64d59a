"""The standard metadata definition namespaces Glance ships (``glance/etc/metadefs``, Apache
2.0), copied unchanged: a first start loads them, as ``glance-manage db_load_metadefs`` does."""

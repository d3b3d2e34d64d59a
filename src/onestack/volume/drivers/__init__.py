"""The volume drivers: ``file`` (qcow2/raw files through qemu-img) and ``fake``."""

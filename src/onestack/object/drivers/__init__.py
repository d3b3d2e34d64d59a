"""Object stores behind one seam (``base.ObjectStore``), chosen by ``[object] driver``
(``onestack.object.dataplane.create_store`` loads one)."""

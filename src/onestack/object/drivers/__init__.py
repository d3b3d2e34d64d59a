"""Object stores behind one seam (``base.ObjectStore``), chosen by ``[object] driver``
(``onestack.object.bootstrap.create_store`` loads one)."""

"""Object stores behind one seam (``base.ObjectStore``), chosen by ``[object] driver``
(``onestack.object.create_store`` loads one)."""

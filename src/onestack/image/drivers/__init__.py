"""Image stores behind one seam (``base.ImageStore``), chosen by ``[image] store``
(``onestack.image.dataplane.create_store`` loads one)."""

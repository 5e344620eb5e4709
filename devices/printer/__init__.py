"""Receipt printer: ESC/POS raster driver, Qt-rendered receipts and documents."""

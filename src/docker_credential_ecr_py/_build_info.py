"""Which build this is; the PyInstaller spec writes its own copy into frozen builds."""

FLAVOUR = "console script"

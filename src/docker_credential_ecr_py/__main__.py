"""``python -m docker_credential_ecr_py`` and the PyInstaller entry point."""

from docker_credential_ecr_py._cli import main

if __name__ == "__main__":
    main()

"""`python -m probectl`."""

from probectl.cli.main import run

if __name__ == "__main__":
    run()

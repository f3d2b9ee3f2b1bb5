"""`python -m workers.cli` runs the `phien` command."""

from workers.cli.main import app

app()

"""`python -m api.cli` runs the `phien` command."""

from api.cli.main import app

app()

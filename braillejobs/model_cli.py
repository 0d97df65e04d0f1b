"""Commands of the neural translator (corpus, train, evaluate); registered by cli.py."""

import click

COMMANDS: list[click.Command] = []

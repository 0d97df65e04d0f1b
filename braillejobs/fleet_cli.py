"""Commands for operating the worker fleet (workers, queues, top, exporter); registered by cli.py."""

import click

COMMANDS: list[click.Command] = []

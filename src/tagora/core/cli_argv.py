"""The root command group keeps the arguments it was called with, so a command can hand itself over to the
worker of a running server (``core/cli_jobs.py``). Light on purpose: ``tagora --help`` imports it."""

from __future__ import annotations

from typer._click.core import Context
from typer.core import TyperGroup

ARGV = "tagora.argv"  # key in the click context's ``meta``, which every sub-command's context shares


class RecordingGroup(TyperGroup):
    def parse_args(self, ctx: Context, args: list[str]) -> list[str]:
        ctx.meta[ARGV] = list(args)
        return super().parse_args(ctx, args)

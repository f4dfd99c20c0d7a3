"""`rlblocks --version`, and `-h` as a synonym of `--help` on the app and on every command."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import rlblocks
from rlblocks.cli import app

runner = CliRunner()


def test_version_prints_the_package_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"rlblocks {rlblocks.__version__}"


@pytest.mark.parametrize("command", [[], ["train"], ["eval"], ["plot"], ["export"], ["migrate"], ["algos"]])
def test_short_help_is_the_same_as_long_help(command):
    short, long = runner.invoke(app, [*command, "-h"]), runner.invoke(app, [*command, "--help"])
    assert short.exit_code == long.exit_code == 0
    assert short.output == long.output
    assert "Usage:" in short.output

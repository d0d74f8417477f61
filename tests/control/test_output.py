"""CLI output helpers: tables, progress only on a terminal, one-line failures."""

from __future__ import annotations

import argparse
import io

import pytest

from aigateway_sdk.cli._output import CliError, Progress, print_table, run_async
from aigateway_sdk.errors import AiError, RateLimited


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_counts_on_a_terminal_and_clears_the_line() -> None:
    stream = Terminal()
    progress = Progress("logs", stream)
    for _ in range(120):
        progress.step()
    progress.done()
    text = stream.getvalue()
    assert "\rfetched 50 logs" in text
    assert "\rfetched 100 logs" in text
    assert text.endswith("\r\x1b[K")


def test_progress_is_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress("logs", stream)
    for _ in range(500):
        progress.step()
    progress.done()
    assert stream.getvalue() == ""


def test_table_aligns_columns_and_shows_none_and_booleans(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_table(("id", "ok", "ttl"), [["a", True, None], ["longer-id", False, 300]])
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "id         ok   ttl",
        "a          yes  -",
        "longer-id  no   300",
    ]


@pytest.mark.parametrize(
    ("error", "words"),
    [
        (AiError(RateLimited(message="slow down", status=429, code=2003)), "RateLimited"),
        (CliError("missing --account-id"), "missing --account-id"),
    ],
)
def test_failures_are_one_line_and_exit_1(
    error: Exception, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def command(_args: argparse.Namespace) -> int:
        raise error

    assert run_async(command)(argparse.Namespace()) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert words in captured.err


def test_an_unexpected_error_is_one_line_unless_debugging(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def command(_args: argparse.Namespace) -> int:
        raise KeyError("boom")

    monkeypatch.delenv("AIGATEWAY_DEBUG", raising=False)
    assert run_async(command)(argparse.Namespace()) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "unexpected KeyError" in err
    monkeypatch.setenv("AIGATEWAY_DEBUG", "1")
    with pytest.raises(KeyError):
        run_async(command)(argparse.Namespace())

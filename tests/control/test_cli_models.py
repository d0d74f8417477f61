"""`aigateway models` against the local gateway's catalog, and `serve --allow-unknown-models`."""

from __future__ import annotations

import json
from typing import Any

import pytest

import aigateway_sdk.local as local
from aigateway_sdk.cli import serve
from aigateway_sdk.cli.main import main
from aigateway_sdk.local import LocalGateway

from .conftest import TOKEN

EMBEDDERS = [
    "@cf/baai/bge-base-en-v1.5",
    "@cf/baai/bge-small-en-v1.5",
    "@cf/baai/bge-large-en-v1.5",
    "@cf/baai/bge-m3",
]


@pytest.fixture
def env(gw: LocalGateway, account: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CLOUDFLARE_ACCOUNT_ID", account)
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", TOKEN)
    monkeypatch.setenv("AIGATEWAY_API_BASE_URL", gw.api_url)
    return account


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_models_table(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "models")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["name", "task", "context", "description"]
    assert len(lines) == 1 + 8
    fast = next(line for line in lines if "llama-3.3-70b-instruct-fp8-fast" in line)
    assert "Text Generation" in fast
    assert "24000" in fast
    assert all(len(line) < 200 for line in lines)  # descriptions are cut in the table


def test_models_json_with_filters(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "models", "--task", "Text Embeddings", "--per-page", "3", "--json")
    assert code == 0, err
    models: list[dict[str, Any]] = json.loads(out)
    assert [m["name"] for m in models] == EMBEDDERS
    assert models[0]["task"]["name"] == "Text Embeddings"
    assert models[0]["created_at"] == "2023-09-25T19:21:11.898000+00:00"
    code, out, _ = run(capsys, "models", "--search", "gpt-oss", "--author", "openai", "--json")
    assert [m["name"] for m in json.loads(out)] == ["@cf/openai/gpt-oss-20b"]
    code, out, _ = run(capsys, "models", "--search", "nothing is called this")
    assert out.splitlines() == ["name  task  context  description"]


def test_bad_arguments_are_one_line(env: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "models", "--per-page", "0", "--json")
    assert code == 1
    assert out == ""
    error = json.loads(err)["error"]
    assert error["type"] == "ValidationError"
    assert error["fields"] == ["per_page"]


def test_a_wrong_token_is_one_line(
    env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOUDFLARE_API_TOKEN", "not-the-token-xyz")
    code, out, err = run(capsys, "models")
    assert code == 1
    assert out == ""
    assert err.startswith("aigateway: error: AuthenticationFailed")
    assert len(err.strip().splitlines()) == 1
    assert "not-the-token-xyz" not in err


def test_missing_credentials(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CLOUDFLARE_ACCOUNT_ID", raising=False)
    code, _, err = run(capsys, "models")
    assert code == 1
    assert "missing --account-id" in err


@pytest.mark.parametrize(("argv", "expected"), [((), False), (("--allow-unknown-models",), True)])
def test_serve_allow_unknown_models_flag(
    argv: tuple[str, ...], expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[local.LocalGatewayConfig] = []
    real = local.LocalGatewayConfig

    def capture(**kwargs: Any) -> local.LocalGatewayConfig:
        made.append(real(**kwargs))
        return made[-1]

    def stop(*_args: object) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(local, "LocalGatewayConfig", capture)
    monkeypatch.setattr(serve, "_listen", stop)
    assert main(["serve", "--port", "0", *argv]) == 130
    assert [config.allow_unknown_models for config in made] == [expected]

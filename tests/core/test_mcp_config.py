"""``[mcp.servers.NAME]`` tables (tui/core/mcp/config.py through tui/core/config.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core.config import ConfigError, load_config

BASE = '[providers.demo]\nkind = "demo"\n'


def load(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    file = tmp_path / "config.toml"
    file.write_text(BASE + text, encoding="utf-8")
    return load_config(file, env={}, cwd=tmp_path)


def test_stdio_and_http_servers_parse_into_frozen_configs(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """
[mcp.servers.git]
command = "uvx"
args = ["mcp-server-git", "--repository", "."]
env = { GIT_AUTHOR_NAME = "me" }
env_passthrough = ["GITHUB_TOKEN"]
cwd = "sub"
approval = "ask"
auto_approve = ["git_status"]
disabled_tools = ["git_reset"]
timeout = 5

[mcp.servers.search]
url = "https://example.invalid/mcp"
headers = { "X-Client" = "chattui" }
bearer_token_env = "SEARCH_TOKEN"
approval = "auto"
""",
    )
    git, search = config.mcp
    assert (git.name, git.transport, git.command, git.args) == (
        "git",
        "stdio",
        "uvx",
        ("mcp-server-git", "--repository", "."),
    )
    assert git.env == {"GIT_AUTHOR_NAME": "me"} and git.env_passthrough == ("GITHUB_TOKEN",)
    assert git.cwd == Path("sub") and git.timeout == 5.0
    assert git.approval_for("git_status") == "auto" and git.approval_for("git_log") == "ask"
    assert git.disabled_tools == ("git_reset",)
    assert (search.transport, search.url, search.bearer_token_env) == (
        "http",
        "https://example.invalid/mcp",
        "SEARCH_TOKEN",
    )
    assert search.approval_for("anything") == "auto"
    with pytest.raises(AttributeError):
        git.timeout = 1  # type: ignore[misc]


def test_no_mcp_table_means_no_servers(tmp_path: Path) -> None:
    assert load(tmp_path, "").mcp == ()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[mcp.servers.x]\n", "mcp.servers.x: give either command (stdio) or url"),
        ('[mcp.servers.x]\ncommand = "a"\nurl = "http://h"\n', "give either command"),
        ('[mcp.servers.x]\ncommand = "a"\ntimeout = 0\n', "mcp.servers.x.timeout: must be a"),
        ('[mcp.servers.x]\ncommand = "a"\napproval = "yes"\n', "mcp.servers.x.approval: must be"),
        ('[mcp.servers.x]\ncommand = "a"\ncomand = "b"\n', "did you mean 'command'?"),
        ('[mcp.servers.x]\ncommand = "a"\nurl2 = 1\n', "mcp.servers.x.url2: unknown key"),
        ('[mcp.servers.x]\ncommand = "a"\nheaders = {}\n', "x.headers: does not apply to a"),
        ('[mcp.servers.x]\nurl = "ftp://h"\n', "mcp.servers.x.url: must be an http"),
        ('[mcp.servers.x]\nurl = "http://h"\nbearer_token_env = "sk-abc"\n', "bearer_token_env"),
        ('[mcp.servers.x]\ncommand = "a"\nargs = "b"\n', "mcp.servers.x.args: must be a list"),
        (
            '[mcp.servers.x]\ncommand = "a"\nenv = { "A B" = "c" }\n',
            "env.A B: not a valid variable",
        ),
        ('[mcp.servers."a.b"]\ncommand = "a"\n', "a server name is 1-32 letters"),
        ('[mcp.servers.a__b]\ncommand = "a"\n', "no __ and no _ at either end"),
        ('[mcp.servers._a]\ncommand = "a"\n', "no __ and no _ at either end"),
        ('[mcp.servers.a_]\ncommand = "a"\n', "no __ and no _ at either end"),
        ("[mcp]\nother = 1\n", "mcp.other: unknown key"),
        ('[mcp.servers.x]\ncommand = "a"\ntimeout = 1e9\n', "must be a positive number up to"),
        ('[mcp.servers.x]\nurl = "http://"\n', "mcp.servers.x.url: must be an http"),
        ('[mcp.servers.x]\nurl = "http://h"\nheaders = { "a b" = "c" }\n', "not a valid header"),
        ('[mcp.servers.x]\nurl = "http://h"\nheaders = { A = "\\u00e9" }\n', "printable ASCII"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text)
    assert str(caught.value).startswith(str(tmp_path / "config.toml"))
    assert expected in str(caught.value)


def test_a_pasted_token_is_never_echoed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, '[mcp.servers.x]\nurl = "http://h"\nbearer_token_env = "sk-SECRET-1"\n')
    assert "sk-SECRET-1" not in str(caught.value)


def test_untrusted_names_in_messages_are_escaped(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, '[mcp.servers."\\u001b]52;x"]\ncommand = "a"\n')
    assert "\x1b" not in str(caught.value) and "\\x1b" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, '[mcp.servers.x]\ncommand = "a"\n"\\u202eevil" = 1\n')
    assert "\u202e" not in str(caught.value) and "unknown key" in str(caught.value)


def test_chattui_config_lists_the_servers_without_their_secrets(tmp_path: Path) -> None:
    from tui.core.keys import doctor

    config = load(
        tmp_path,
        '[mcp.servers.git]\ncommand = "uvx"\nenv = { TOKEN = "s3cret" }\n'
        '[mcp.servers.web]\nurl = "https://u:pw@example.invalid/mcp"\n'
        'headers = { "X-Key" = "h3ader" }\nenabled = false\n',
    )
    text = "\n".join(f.text for f in doctor(config, env={}))
    assert "mcp server git: stdio uvx; approval ask; timeout 60 s" in text
    assert "mcp server web (disabled): http https://example.invalid/mcp" in text
    assert "s3cret" not in text and "h3ader" not in text and "pw" not in text

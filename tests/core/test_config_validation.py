"""One validation path: what a run would refuse, loading refuses first (tui/core/config/).

``chattui config`` (the doctor) and every run load the file through ``load_config``; these
tests pin the checks that used to live only in the run (the tool registry, the runtime, the
request), and that every such error names its key path with untrusted names escaped.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import platformdirs
import pytest

from tui.core.config import ConfigError, load_config
from tui.core.keys import Severity, doctor, resolve_settings
from tui.core.pricing import Price
from tui.core.tools.registry import SPECS, ToolRegistry, known_tools, unknown_tools


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(platformdirs, "user_config_path", lambda app: tmp_path / "home-cfg" / app)
    monkeypatch.setattr(platformdirs, "user_data_path", lambda app: tmp_path / "home-data" / app)


def error_of(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, env=env or {}, cwd=tmp_path)
    return str(info.value)


def run_chattui(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")},
        "CHATTUI_DATA_DIR": str(tmp_path / "data"),
        "CHATTUI_CONFIG": str(tmp_path / "config.toml"),
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


# --- the known crash: an unknown tool passed the doctor, then the run died ---------------------


def test_unknown_tool_is_refused_by_the_doctor_and_the_run_alike(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        '[providers.demo]\n[tools]\nenabled = ["save_file", "nope"]\n', encoding="utf-8"
    )
    for args in (["config"], ["-p", "hi"]):
        done = run_chattui(tmp_path, *args)
        assert done.returncode == 2, done
        assert "Traceback" not in done.stderr
        assert done.stderr.strip().endswith(
            "tools.enabled: unknown tool 'nope' "
            "(known: save_file, edit_file, read_file, list_files, run_command)"
        )
        assert done.stderr.count("\n") == 1


def test_the_loader_and_the_registry_share_one_list_of_tools(tmp_path: Path) -> None:
    assert known_tools() == tuple(SPECS)
    assert unknown_tools(["read_file", "x", "save_file", "y"]) == ["x", "y"]
    with pytest.raises(ValueError, match="unknown tools"):
        ToolRegistry(tmp_path, enabled=["x"])
    assert "'x'" in error_of(tmp_path, '[tools]\nenabled = ["x"]\n')


# --- the workspace -----------------------------------------------------------------------------


def test_workspace_must_exist(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[tools]\nworkspace = "missing"\n')
    assert message.endswith(
        f"tools.workspace: cannot use {tmp_path / 'missing'}: No such file or directory"
    )


def test_workspace_must_be_a_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    message = error_of(tmp_path, '[tools]\nworkspace = "file"\n')
    assert message.endswith(f"tools.workspace: not a directory: {tmp_path / 'file'}")


def test_workspace_option_follows_the_same_rule(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[providers.demo]\n", encoding="utf-8")
    done = run_chattui(tmp_path, "-p", "hi", "--workspace", "nowhere")
    assert done.returncode == 2
    assert done.stderr == (
        f"chattui: --workspace: cannot use {tmp_path / 'nowhere'}: No such file or directory\n"
    )


# --- the file itself ---------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_as_the_config_file_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "config.toml"
    os.mkfifo(fifo)
    result: list[str] = []
    worker = threading.Thread(
        target=lambda: result.append(_message(lambda: load_config(fifo, env={}, cwd=tmp_path))),
        daemon=True,
    )
    worker.start()
    worker.join(30)
    assert result == [f"{fifo}: not a regular file"]


def test_a_directory_as_the_config_file_is_refused(tmp_path: Path) -> None:
    message = _message(lambda: load_config(tmp_path, env={}, cwd=tmp_path))
    assert message.startswith(f"{tmp_path}: ")


def test_a_huge_config_file_is_refused(tmp_path: Path) -> None:
    big = "# " + "x" * (2 * 1024 * 1024) + "\n"
    assert error_of(tmp_path, big).endswith("larger than 1024 KiB")


def _message(load: object) -> str:
    try:
        load()  # type: ignore[operator]
    except ConfigError as exc:
        return str(exc)
    return "loaded"


# --- what a request could not carry ------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["http://[::1", "http://", "http:///v1", "http://h:99999/v1", "http://a b/v1", "http://é.x"],
)
def test_unusable_base_urls(tmp_path: Path, url: str) -> None:
    message = error_of(tmp_path, f'[providers.p]\nkind = "openai"\nbase_url = "{url}"\n')
    assert message.endswith("providers.p.base_url: must be an http:// or https:// URL with a host")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ('{ "X A" = "v" }', "providers.p.headers.X A: not a valid header name"),
        ('{ "" = "v" }', "providers.p.headers.: not a valid header name"),
        ('{ "X-A" = "caf\u00e9" }', "providers.p.headers.X-A: must be a one-line string"),
        ('{ "X-A" = "a\\u0000b" }', "providers.p.headers.X-A: must be a one-line string"),
    ],
)
def test_unsendable_headers(tmp_path: Path, headers: str, message: str) -> None:
    assert message in error_of(tmp_path, f'[providers.p]\nkind = "openai"\nheaders = {headers}\n')


def test_a_literal_key_that_cannot_be_sent_is_refused_without_echo(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[providers.p]\nkind = "openai"\napi_key = "sk-\u201cquoted"\n')
    assert message.endswith(
        "providers.p.api_key: the key cannot be sent: it holds a control or non-ASCII character"
    )
    assert "sk-" not in message


def test_a_key_from_the_environment_that_cannot_be_sent_is_a_doctor_problem(
    tmp_path: Path,
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[providers.p]\nkind = "openai"\napi_key_env = "K"\n', encoding="utf-8")
    config = load_config(path, env={}, cwd=tmp_path)
    env = {"K": "sk-\u201cx"}
    with pytest.raises(ConfigError, match=r"the key from \$K cannot be sent"):
        resolve_settings(config.provider(), env=env)
    findings = doctor(config, env=env)
    problems = [f.text for f in findings if f.severity is Severity.PROBLEM]
    assert len(problems) == 1 and "cannot be sent" in problems[0]
    assert "sk-" not in "\n".join(f.text for f in findings)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("timeout = 1e300", "providers.p.timeout: must be a positive number up to 86400"),
        ("max_retries = 5000", "providers.p.max_retries: must be a whole number >= 0 and <= 100"),
        ('api_key_cmd = ["a\\u0000b"]', "providers.p.api_key_cmd: an argument holds a NUL"),
    ],
)
def test_values_the_run_could_not_use(tmp_path: Path, extra: str, message: str) -> None:
    assert message in error_of(tmp_path, f'[providers.p]\nkind = "openai"\n{extra}\n')


# --- untrusted names are shown escaped ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            '[providers."\\u001b]52;c;eA==\\u0007"]\nkind = "openai"\nnope = 1\n',
            "providers.\\x1b]52;c;eA==\\x07.nope: unknown key",
        ),
        ('[providers.p]\nkind = "\\u001b[2J"\n', "unknown kind '\\x1b[2J'"),
        (
            'default_provider = "\\u202eevil"\n[providers.p]\nkind = "openai"\n',
            "no provider named '\\u202eevil'",
        ),
        ('[tools]\nenabled = ["\\u001b[31mred"]\n', "unknown tool '\\x1b[31mred'"),
        ('"\\u001b[5m" = 1\n', "\\x1b[5m: unknown key"),
    ],
)
def test_untrusted_names_are_escaped_in_messages(tmp_path: Path, text: str, shown: str) -> None:
    message = error_of(tmp_path, text)
    assert shown in message
    assert "\x1b" not in message and "\u202e" not in message and "\x07" not in message


def test_unknown_provider_on_the_command_line_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[providers.demo]\n", encoding="utf-8")
    config = load_config(path, env={}, cwd=tmp_path)
    with pytest.raises(ConfigError) as info:
        config.provider("\x1b]0;title\x07")
    assert str(info.value) == "unknown provider '\\x1b]0;title\\x07' (known: demo)"


def test_a_key_command_named_with_an_escape_sequence_is_shown_escaped(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[providers."\\u001b[2J"]\nkind = "openai"\napi_key_cmd = ["\\u001b]0;x\\u0007"]\n',
        encoding="utf-8",
    )
    config = load_config(path, env={}, cwd=tmp_path)
    with pytest.raises(ConfigError) as info:
        resolve_settings(config.provider(), env={})
    text = "\n".join([str(info.value), *(f.text for f in doctor(config, env={}))])
    assert "providers.\\x1b[2J.api_key_cmd: \\x1b]0;x\\x07" in text
    assert "api_key_cmd (\\x1b]0;x\\x07): missing" in text
    assert "\x1b" not in text and "\x07" not in text


@pytest.mark.skipif(os.name == "nt", reason="POSIX mode bits")
def test_the_permission_warning_shows_provider_names_escaped(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[providers."\\u202eevil"]\nkind = "openai"\napi_key = "sk-x"\n')
    path.chmod(0o644)
    (warning,) = load_config(path, env={}, cwd=tmp_path).warnings
    assert "providers \\u202eevil" in warning
    assert "\u202e" not in warning and "sk-x" not in warning


# --- what an adapter would refuse --------------------------------------------------------------


@pytest.mark.parametrize("url", ["http://127.0.0.1:11434/v1", "http://127.0.0.1:11434/v1/"])
def test_ollamas_openai_endpoint_is_refused_while_loading(tmp_path: Path, url: str) -> None:
    message = error_of(
        tmp_path, f'[providers.o]\nkind = "ollama"\nmodel = "m"\nbase_url = "{url}"\n'
    )
    assert message.endswith(
        "providers.o.base_url: this is Ollama's OpenAI-compatible endpoint:"
        ' use kind "openai" for it, or drop the /v1 to use kind "ollama"'
    )


@pytest.mark.parametrize("name", ["", " ", "\\t"])
def test_a_blank_provider_name_is_refused(tmp_path: Path, name: str) -> None:
    message = error_of(tmp_path, f'[providers."{name}"]\nkind = "demo"\n')
    assert message.endswith("providers: a provider name must not be empty or blank")


@pytest.mark.parametrize("kind", ["openai", "gemini", "demo"])
def test_a_model_name_with_a_control_character_is_refused(tmp_path: Path, kind: str) -> None:
    message = error_of(tmp_path, f'[providers.p]\nkind = "{kind}"\nmodel = "m\\u001f"\n')
    assert message.endswith("providers.p.model: holds a control character")


def test_the_model_option_follows_the_same_rule(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text("[providers.demo]\n", encoding="utf-8")
    done = run_chattui(tmp_path, "-p", "hi", "--model", "m\x1b[2J")
    assert done.returncode == 2
    assert done.stderr == "chattui: --model: holds a control character\n"


# --- the data directory ------------------------------------------------------------------------


@pytest.mark.parametrize("inside", ["", "sub"])
def test_a_data_directory_that_cannot_be_made_is_refused_by_the_doctor_and_the_run(
    tmp_path: Path, inside: str
) -> None:
    (tmp_path / "config.toml").write_text("[providers.demo]\n", encoding="utf-8")
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be")
    data = blocker / inside if inside else blocker
    env = {"CHATTUI_DATA_DIR": str(data)}
    doctor_run = run_chattui(tmp_path, "config", env=env)
    assert doctor_run.returncode == 2, doctor_run
    assert (
        f"problem: data directory: cannot save transcripts: {blocker} is not a directory"
        in doctor_run.stdout
    )
    run = run_chattui(tmp_path, "-p", "hi", env=env)
    assert run.returncode == 2, run
    assert run.stderr.startswith(f"chattui: cannot save transcripts in {data / 'transcripts'}: ")
    assert run.stderr.count("\n") == 1 and "Traceback" not in run.stderr


def test_the_doctor_reports_the_data_directory(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[providers.demo]\n", encoding="utf-8")
    env = {"CHATTUI_DATA_DIR": str(tmp_path / "new" / "data")}
    findings = doctor(load_config(path, env=env, cwd=tmp_path), env=env)
    assert f"data directory: {tmp_path / 'new' / 'data'}" in [f.text for f in findings]
    assert not any(f.severity is Severity.PROBLEM for f in findings)
    assert not (tmp_path / "new").exists()  # the doctor creates nothing


# --- cost and control: cache, reasoning, price ----------------------------------------------


def test_cache_reasoning_and_price_are_read(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[providers.p]\nkind = "anthropic"\ncache = false\nreasoning = "high"\n'
        "price = { input = 3, output = 15.0, cache_read = 0.3 }\n",
        encoding="utf-8",
    )
    provider = load_config(path, env={}, cwd=tmp_path).provider()
    assert (provider.prompt_cache, provider.reasoning) == (False, "high")
    assert provider.price == Price(input=3.0, output=15.0, cache_read=0.3)
    assert resolve_settings(provider, env={"ANTHROPIC_API_KEY": "k"}).prompt_cache is False
    path.write_text('[providers.p]\nkind = "anthropic"\n', encoding="utf-8")
    default = load_config(path, env={}, cwd=tmp_path).provider()
    assert (default.prompt_cache, default.reasoning, default.price) == (True, None, None)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('cache = "yes"', "providers.p.cache: must be true or false"),
        ('reasoning = "max"', "providers.p.reasoning: must be one of off, low, medium, high"),
        ("price = 3.0", "providers.p.price: must be a table"),
        ("price = { input = 3.0 }", "providers.p.price.output: required"),
        ("price = { input = 3.0, output = -1 }", "providers.p.price.output: must be between 0"),
        ('price = { input = "3", output = 1 }', "providers.p.price.input: must be a number"),
        ("price = { input = 1, output = 1, cached = 1 }", "providers.p.price.cached: unknown key"),
    ],
)
def test_cost_and_control_values_are_checked(tmp_path: Path, extra: str, message: str) -> None:
    assert message in error_of(tmp_path, f'[providers.p]\nkind = "openai"\n{extra}\n')

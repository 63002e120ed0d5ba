"""Config loading, key resolution and the doctor (tui.core: config, keys, locations)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import platformdirs
import pytest

from providers.settings import Secret, StreamLimits
from tui.core import config as cfg
from tui.core import keys, locations
from tui.core.config import ConfigError, load_config
from tui.core.keys import Finding, Severity, doctor, resolve_settings

POSIX_ONLY = pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")

FULL_EXAMPLE = """\
default_provider = "local"
[providers.local]
kind = "openai"              # openai | openai-responses | anthropic | gemini | ollama | demo
base_url = "http://127.0.0.1:8080/v1"
model = "qwen2.5-coder"
api_key_env = "LOCAL_KEY"
timeout = 300                # read timeout in seconds
max_retries = 2
headers = { "X-Title" = "chattui" }
system_prompt = "Be brief."
max_tokens = 8192            # optional
[tools]
workspace = "."
approval = "ask"
enabled = ["save_file", "read_file", "list_files"]
max_steps = 25
"""


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point platformdirs into tmp_path so no test can read the real home directory."""
    monkeypatch.setattr(platformdirs, "user_config_path", lambda app: tmp_path / "home-cfg" / app)
    monkeypatch.setattr(platformdirs, "user_data_path", lambda app: tmp_path / "home-data" / app)


def write(tmp_path: Path, text: str, mode: int = 0o600, name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def load_text(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> cfg.Config:
    return load_config(write(tmp_path, text), env=env or {}, cwd=tmp_path)


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_text(tmp_path, text)
    return str(info.value)


def provider_with(extra: str, kind: str = "openai") -> str:
    return f'[providers.p]\nkind = "{kind}"\n{extra}\n'


# --- locations ---------------------------------------------------------------------------------


def test_locations_follow_env_overrides(tmp_path: Path) -> None:
    env = {"CHATTUI_CONFIG": str(tmp_path / "c.toml"), "CHATTUI_DATA_DIR": str(tmp_path / "d")}
    assert locations.config_file(env) == tmp_path / "c.toml"
    assert locations.data_dir(env) == tmp_path / "d"
    assert locations.transcripts_dir(env) == tmp_path / "d" / "transcripts"


@pytest.mark.parametrize("env", [{}, {"CHATTUI_CONFIG": "", "CHATTUI_DATA_DIR": ""}])
def test_locations_default_to_platformdirs(tmp_path: Path, env: dict[str, str]) -> None:
    assert locations.config_file(env) == tmp_path / "home-cfg" / "chattui" / "config.toml"
    assert locations.data_dir(env) == tmp_path / "home-data" / "chattui"
    assert locations.transcripts_dir(env) == tmp_path / "home-data" / "chattui" / "transcripts"


@POSIX_ONLY
def test_ensure_private_dir_creates_owner_only_dir(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "transcripts"
    assert locations.ensure_private_dir(target) == target
    assert stat.S_IMODE(target.stat().st_mode) == 0o700
    assert locations.ensure_private_dir(target) == target  # idempotent


# --- parsing -----------------------------------------------------------------------------------


def test_full_example_parses(tmp_path: Path) -> None:
    config = load_text(tmp_path, FULL_EXAMPLE)
    assert config.path == tmp_path / "config.toml"
    assert config.default_provider == "local"
    assert config.warnings == ()
    p = config.provider()
    assert p == config.providers["local"]
    assert (p.name, p.kind, p.base_url, p.model) == (
        "local",
        "openai",
        "http://127.0.0.1:8080/v1",
        "qwen2.5-coder",
    )
    assert (p.api_key, p.api_key_env, p.api_key_cmd) == (None, "LOCAL_KEY", ())
    assert (p.timeout, p.max_retries, p.max_tokens) == (300.0, 2, 8192)
    assert dict(p.headers) == {"X-Title": "chattui"}
    assert p.system_prompt == "Be brief."
    tools = config.tools
    assert tools.workspace == tmp_path.resolve()
    assert (tools.approval, tools.max_steps) == ("ask", 25)
    assert tools.enabled == ("save_file", "read_file", "list_files")


def test_config_objects_are_frozen(tmp_path: Path) -> None:
    config = load_text(tmp_path, FULL_EXAMPLE)
    with pytest.raises(AttributeError):
        config.default_provider = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.providers["x"] = config.provider()  # type: ignore[index]


@pytest.mark.parametrize(
    ("kind", "base_url", "model", "key_env"),
    [
        ("openai", "https://api.openai.com/v1", "gpt-5-mini", "OPENAI_API_KEY"),
        ("openai-responses", "https://api.openai.com/v1", "gpt-5-mini", "OPENAI_API_KEY"),
        ("anthropic", "https://api.anthropic.com", "claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
        (
            "gemini",
            "https://generativelanguage.googleapis.com/v1beta",
            "gemini-2.5-flash",
            "GEMINI_API_KEY",
        ),
        ("demo", "", "demo", None),
    ],
)
def test_defaults_per_kind(
    tmp_path: Path, kind: str, base_url: str, model: str, key_env: str | None
) -> None:
    p = load_text(tmp_path, provider_with("", kind)).provider()
    assert (p.base_url, p.model, p.api_key_env) == (base_url, model, key_env)
    assert (p.timeout, p.max_retries, p.max_tokens, p.system_prompt) == (300.0, 2, None, None)


def test_ollama_defaults_and_needs_a_model(tmp_path: Path) -> None:
    p = load_text(tmp_path, provider_with('model = "llama3.2"', "ollama")).provider()
    assert (p.base_url, p.model, p.api_key_env, p.keyless) == (
        "http://127.0.0.1:11434",
        "llama3.2",
        None,
        True,
    )
    assert "providers.p.model: required for kind ollama" in error_of(
        tmp_path, provider_with("", "ollama")
    )


def test_kind_defaults_to_the_table_name(tmp_path: Path) -> None:
    config = load_text(tmp_path, "[providers.anthropic]\n[providers.demo]\n")
    assert [p.kind for p in config.providers.values()] == ["anthropic", "demo"]
    assert config.default_provider == "anthropic"  # first in file order


@pytest.mark.parametrize(
    "extra", ['base_url = "http://127.0.0.1:8080/v1/"', 'base_url = "https://openrouter.ai/api/v1"']
)
def test_vendor_key_is_never_sent_to_another_server(tmp_path: Path, extra: str) -> None:
    p = load_text(tmp_path, provider_with(extra)).provider()
    assert not p.base_url.endswith("/")
    assert p.keyless and p.api_key_env is None
    settings = resolve_settings(p, env={"OPENAI_API_KEY": "sk-vendor"})
    assert (settings.api_key, settings.key_source) == (None, "none")


def test_empty_file_without_providers_uses_environment_choice(tmp_path: Path) -> None:
    config = load_text(tmp_path, '[tools]\napproval = "deny"\n', env={"ANTHROPIC_API_KEY": "k"})
    assert config.path is not None
    assert config.default_provider == "anthropic"
    assert config.tools.approval == "deny"


# --- no config file ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "name", "kind", "model"),
    [
        ({"OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-a"}, "openai", "openai", "gpt-5-mini"),
        ({"ANTHROPIC_API_KEY": "sk-a"}, "anthropic", "anthropic", "claude-sonnet-4-5"),
        ({"OPENAI_API_KEY": "", "GEMINI_API_KEY": "g"}, "demo", "demo", "demo"),
        ({}, "demo", "demo", "demo"),
    ],
)
def test_no_config_file_selects_provider_from_env(
    tmp_path: Path, env: dict[str, str], name: str, kind: str, model: str
) -> None:
    config = load_config(env=env, cwd=tmp_path)
    assert config.path is None
    assert config.default_provider == name
    p = config.provider()
    assert (p.name, p.kind, p.model) == (name, kind, model)
    assert "demo" in config.providers  # always available as an offline fallback
    assert config.tools.workspace == tmp_path.resolve()


def test_explicit_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match="^config file not found: .*nope.toml$"):
        load_config(missing, env={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match="^config file not found: .*nope.toml$"):
        load_config(env={"CHATTUI_CONFIG": str(missing)}, cwd=tmp_path)


def test_config_env_var_redirects_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, FULL_EXAMPLE, name="other.toml")
    config = load_config(env={"CHATTUI_CONFIG": str(path)}, cwd=tmp_path)
    assert (config.path, config.default_provider) == (path, "local")


# --- syntax errors: position named, file untouched ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a = 1\nb = 2\nkind\n", "line 3, column 5: Expected '=' after a key"),
        ("[providers.local\n", "line 1, column 17: Expected ']'"),
        ("[tools]\napproval = \n", "line 2, column 12: Invalid value"),
        (
            FULL_EXAMPLE[: FULL_EXAMPLE.index("qwen") + 2],
            "line 5, column 12 (end of file): Unterminated string",
        ),
        ('default_provider = "x', "line 1, column 22 (end of file): Unterminated string"),
    ],
    ids=["missing-equals", "open-table", "missing-value", "truncated", "unterminated"],
)
def test_syntax_error_names_line_and_column_and_leaves_file_alone(
    tmp_path: Path, text: str, where: str
) -> None:
    path = write(tmp_path, text)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={}, cwd=tmp_path)
    assert str(info.value).startswith(f"{path}: {where}")
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'a = 1\nb = "\xff"\n')
    with pytest.raises(ConfigError, match=r"config.toml: line 2: not valid UTF-8"):
        load_config(path, env={}, cwd=tmp_path)


# --- schema errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            provider_with("", "opneai"),
            "providers.p.kind: unknown kind 'opneai' (expected one of: "
            "openai, openai-responses, anthropic, gemini, ollama, demo)",
        ),
        ("[providers.local]\n", "providers.local.kind: missing kind (expected one of:"),
        ("[providers]\nlocal = 3\n", "providers.local: must be a table"),
        ('providers = "x"\n', "providers: must be a table"),
        (provider_with("timeout = 0"), "providers.p.timeout: must be a positive number"),
        (provider_with("timeout = -1.5"), "providers.p.timeout: must be a positive number"),
        (provider_with('timeout = "300"'), "providers.p.timeout: must be a positive number"),
        (provider_with("timeout = inf"), "providers.p.timeout: must be a positive number"),
        (provider_with("timeout = true"), "providers.p.timeout: must be a positive number"),
        (provider_with("max_retries = -1"), "providers.p.max_retries: must be a whole number >= 0"),
        (provider_with("max_retries = 1.5"), "providers.p.max_retries: must be a whole number"),
        (provider_with("max_tokens = 0"), "providers.p.max_tokens: must be a whole number >= 1"),
        (provider_with('model = ""'), "providers.p.model: must be a non-empty string"),
        (provider_with("model = 4"), "providers.p.model: must be a non-empty string"),
        (
            provider_with('base_url = "localhost:8080"'),
            "providers.p.base_url: must be an http:// or https:// URL",
        ),
        (provider_with('headers = "X"'), "providers.p.headers: must be a table of strings"),
        (provider_with("headers = { X-N = 1 }"), "providers.p.headers.X-N: must be a one-line"),
        (provider_with('headers = { X = "a\\nb" }'), "providers.p.headers.X: must be a one-line"),
        (
            provider_with('api_key_cmd = "pass show x"'),
            "providers.p.api_key_cmd: must be a non-empty list of strings",
        ),
        (provider_with("api_key_cmd = []"), "providers.p.api_key_cmd: must be a non-empty list"),
        (provider_with('api_key = ""'), "providers.p.api_key: must be a non-empty string"),
        ('[tools]\napproval = "always"\n', "tools.approval: must be one of ask, auto, deny"),
        ('[tools]\nenabled = "save_file"\n', "tools.enabled: must be a list of tool names"),
        ("[tools]\nmax_steps = 0\n", "tools.max_steps: must be a whole number >= 1"),
        ("tools = 1\n", "tools: must be a table"),
        (
            'default_provider = "nope"\n' + provider_with(""),
            "default_provider: no provider named 'nope' (known: p)",
        ),
    ],
)
def test_schema_error_names_key_path(tmp_path: Path, text: str, message: str) -> None:
    assert error_of(tmp_path, text).startswith(f"{tmp_path / 'config.toml'}: {message}")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            'default_provder = "x"\n',
            "default_provder: unknown key (did you mean 'default_provider'?)",
        ),
        (provider_with('modle = "m"'), "providers.p.modle: unknown key (did you mean 'model'?)"),
        (
            provider_with('apikey_env = "K"'),
            "providers.p.apikey_env: unknown key (did you mean 'api_key_env'?)",
        ),
        ('[tools]\naproval = "ask"\n', "tools.aproval: unknown key (did you mean 'approval'?)"),
        ("[colors]\n", "colors: unknown key"),
    ],
)
def test_unknown_key_suggests_the_closest(tmp_path: Path, text: str, message: str) -> None:
    assert error_of(tmp_path, text).endswith(message)


@pytest.mark.parametrize(
    ("extra", "second", "first"),
    [
        ('api_key = "sk-1"\napi_key_env = "K"', "api_key_env", "api_key"),
        ('api_key = "sk-1"\napi_key_cmd = ["pass"]', "api_key_cmd", "api_key"),
        ('api_key_env = "K"\napi_key_cmd = ["pass"]', "api_key_cmd", "api_key_env"),
        ('api_key_cmd = ["pass"]\napi_key_env = "K"\napi_key = "sk-1"', "api_key_env", "api_key"),
    ],
)
def test_only_one_key_source(tmp_path: Path, extra: str, second: str, first: str) -> None:
    message = error_of(tmp_path, provider_with(extra))
    assert f"providers.p.{second}: set only one of api_key, api_key_env, api_key_cmd" in message
    assert f"({first} is already set)" in message
    assert "sk-1" not in message


@pytest.mark.parametrize("pasted", ["sk-proj-abc123", "AIzaSyabc123", "abc123"])
def test_key_pasted_into_api_key_env_is_rejected_without_echo(tmp_path: Path, pasted: str) -> None:
    message = error_of(tmp_path, provider_with(f'api_key_env = "{pasted}"'))
    assert "providers.p.api_key_env: must be the name of an environment variable" in message
    assert "abc123" not in message


def test_unknown_provider_lists_known_names(tmp_path: Path) -> None:
    config = load_text(tmp_path, "[providers.openai]\n[providers.demo]\n")
    with pytest.raises(ConfigError, match=r"unknown provider 'x' \(known: openai, demo\)"):
        config.provider("x")
    assert config.provider("demo").kind == "demo"


# --- keys --------------------------------------------------------------------------------------


def provider(tmp_path: Path, extra: str, kind: str = "openai") -> cfg.ProviderConfig:
    return load_text(tmp_path, provider_with(extra, kind)).provider()


def cmd(code: str) -> str:
    """A TOML array running ``code`` with this Python, without a shell."""
    return f'api_key_cmd = [{_toml_str(sys.executable)}, "-c", {_toml_str(code)}]'


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


@pytest.mark.parametrize(
    ("extra", "env", "key", "source"),
    [
        ('api_key = " sk-lit "', {}, "sk-lit", "config file api_key"),
        ('api_key_env = "LOCAL_KEY"', {"LOCAL_KEY": "sk-env\n"}, "sk-env", "$LOCAL_KEY"),
        ("", {"OPENAI_API_KEY": "sk-default"}, "sk-default", "$OPENAI_API_KEY"),
    ],
)
def test_resolve_settings_key_sources(
    tmp_path: Path, extra: str, env: dict[str, str], key: str, source: str
) -> None:
    settings = resolve_settings(provider(tmp_path, extra), env=env)
    assert settings.api_key == Secret(key)
    assert settings.key_source == source


def test_resolve_settings_copies_provider_fields_and_model_override(tmp_path: Path) -> None:
    p = load_text(tmp_path, FULL_EXAMPLE).provider()
    settings = resolve_settings(p, model="other-model", env={"LOCAL_KEY": "k"})
    assert (settings.kind, settings.base_url, settings.model) == (
        "openai",
        "http://127.0.0.1:8080/v1",
        "other-model",
    )
    assert (settings.timeout, settings.max_retries, settings.max_tokens) == (300.0, 2, 8192)
    assert dict(settings.headers) == {"X-Title": "chattui"}
    assert resolve_settings(p, env={"LOCAL_KEY": "k"}).model == "qwen2.5-coder"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            'api_key_env = "LOCAL_KEY"',
            "providers.p.api_key_env: environment variable LOCAL_KEY is not set",
        ),
        (
            "",
            "providers.p.api_key_env: environment variable OPENAI_API_KEY is not set"
            " (the default for kind openai)",
        ),
    ],
)
@pytest.mark.parametrize("env", [{}, {"LOCAL_KEY": "  ", "OPENAI_API_KEY": ""}])
def test_api_key_env_unset(tmp_path: Path, extra: str, message: str, env: dict[str, str]) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_settings(provider(tmp_path, extra), env=env)
    assert str(info.value) == message


def test_api_key_cmd_success_takes_first_line(tmp_path: Path) -> None:
    settings = resolve_settings(provider(tmp_path, cmd("print('k')")), env={})
    assert settings.api_key == Secret("k")
    assert settings.key_source == f"api_key_cmd ({sys.executable})"
    multi = provider(tmp_path, cmd("print('sk-pass'); print('login: me')"))
    assert resolve_settings(multi, env={}).api_key == Secret("sk-pass")


def test_api_key_cmd_failure_shows_neither_its_stderr_nor_its_stdout(tmp_path: Path) -> None:
    # A password manager may print the key on stderr as readily as on stdout.
    code = (
        "import sys; print('sk-leaked-on-stdout'); print('early noise', file=sys.stderr);"
        " print('gpg: decryption failed', file=sys.stderr); sys.exit(3)"
    )
    with pytest.raises(ConfigError) as info:
        resolve_settings(provider(tmp_path, cmd(code)), env={})
    message = str(info.value)
    assert message == (
        f"providers.p.api_key_cmd: {sys.executable} exited with status 3 (its output is not shown)"
    )
    assert "sk-leaked" not in repr(info.value) and info.value.__cause__ is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (cmd("import sys; sys.exit(1)"), "exited with status 1 (its output is not shown)"),
        (cmd("print('k' * 70000)"), "printed more than 64 KiB (a key is one line)"),
        (cmd("pass"), "printed no key"),
        (
            "api_key_cmd = ['chattui-no-such-command-xyz']",
            "chattui-no-such-command-xyz: cannot run",
        ),
    ],
)
def test_api_key_cmd_other_failures(tmp_path: Path, extra: str, message: str) -> None:
    with pytest.raises(ConfigError, match="^providers.p.api_key_cmd: ") as info:
        resolve_settings(provider(tmp_path, extra), env={})
    assert message in str(info.value)


def test_api_key_cmd_timeout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys, "KEY_CMD_TIMEOUT", 0.2)
    p = provider(tmp_path, cmd("import time; print('sk-late', flush=True); time.sleep(60)"))
    with pytest.raises(ConfigError) as info:
        resolve_settings(p, env={})
    assert str(info.value) == (
        f"providers.p.api_key_cmd: {sys.executable} timed out after 0.2 seconds"
    )


def test_api_key_cmd_runs_without_shell_or_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[object, dict[str, object]]] = []
    real_popen = subprocess.Popen

    def spy(argv: object, **kwargs: object) -> object:
        calls.append((argv, kwargs))
        return real_popen(argv, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "Popen", spy)
    p = provider(tmp_path, cmd("import sys; print(repr(sys.stdin.read()))"))
    assert resolve_settings(p, env={}).api_key == Secret("''")  # stdin is empty, not the tty
    ((argv, kwargs),) = calls
    assert argv == (sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))")
    assert not kwargs.get("shell") and kwargs["stdin"] == subprocess.DEVNULL
    assert kwargs["start_new_session"] and keys.KEY_CMD_TIMEOUT == 10.0


def test_api_key_cmd_timeout_kills_what_the_command_started(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys, "KEY_CMD_TIMEOUT", 0.5)
    pid_file = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time; "
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"open({str(pid_file)!r}, 'w').write(str(child.pid)); time.sleep(60)"
    )
    with pytest.raises(ConfigError, match="timed out after 0.5 seconds"):
        resolve_settings(provider(tmp_path, cmd(code)), env={})
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 30
    while _alive(grandchild):  # killed with its group; reaped by init
        assert time.monotonic() < deadline, "the grandchild outlived the timeout"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0]
    except OSError:
        return False
    return state != "Z"


def test_api_key_cmd_runs_only_when_resolved(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    code = f"import pathlib; pathlib.Path({str(marker)!r}).touch(); print('k')"
    config = load_text(tmp_path, provider_with(cmd(code)))
    assert not marker.exists()  # loading never runs a key command
    resolve_settings(config.provider(), env={})
    assert marker.exists()


@POSIX_ONLY
@pytest.mark.parametrize(
    ("mode", "extra", "warned"),
    [
        (0o644, 'api_key = "sk-1"', True),
        (0o640, 'api_key = "sk-1"', True),
        (0o644, 'headers = { Authorization = "Bearer sk-1" }', True),
        (0o600, 'api_key = "sk-1"', False),
        (0o644, 'api_key_env = "K"', False),
    ],
)
def test_readable_file_with_literal_key_warns(
    tmp_path: Path, mode: int, extra: str, warned: bool
) -> None:
    path = write(tmp_path, provider_with(extra), mode=mode)
    config = load_config(path, env={}, cwd=tmp_path)
    assert bool(config.warnings) == warned
    if warned:
        (warning,) = config.warnings
        assert f"chmod 600 {path}" in warning and "api_key_env" in warning
        assert f"mode {mode:03o}" in warning and "sk-1" not in warning


def test_reprs_never_show_keys(tmp_path: Path) -> None:
    text = (
        provider_with('api_key = "sk-literal-1"\nheaders = { Authorization = "Bearer sk-hdr-2" }')
        + '[providers.e]\nkind = "anthropic"\napi_key_env = "E_KEY"\n'
    )
    config = load_text(tmp_path, text)
    env = {"E_KEY": "sk-env-3"}
    shown = (
        repr(config)
        + str(config)
        + "".join(repr(resolve_settings(p, env=env)) for p in config.providers.values())
    )
    for key in ("sk-literal-1", "sk-hdr-2", "sk-env-3"):
        assert key not in shown
    assert "Secret('***')" in shown and "'Authorization': '***'" in shown


# --- doctor ------------------------------------------------------------------------------------


def texts(findings: list[Finding], severity: Severity) -> list[str]:
    return [f.text for f in findings if f.severity is severity]


def test_doctor_reports_sources_and_problems_without_keys(tmp_path: Path) -> None:
    text = (
        '[providers.lit]\nkind = "openai"\napi_key = "sk-literal-1"\n'
        f'[providers.cmd]\nkind = "anthropic"\n{cmd("print(chr(115) + chr(107) + chr(55))")}\n'
        '[providers.env]\nkind = "gemini"\napi_key_env = "G_KEY"\n'
        '[providers.gone]\nkind = "openai"\napi_key_env = "NOT_SET_KEY"\n'
        '[providers.local]\nkind = "openai"\nbase_url = "http://me:sk-url-4@127.0.0.1:8080/v1"\n'
        "[providers.demo]\n"
    )
    config = load_text(tmp_path, text)
    findings = doctor(config, env={"G_KEY": "sk-env-3"})
    report = "\n".join(f.text for f in findings)
    for key in ("sk-literal-1", "sk7", "sk-env-3", "sk-url-4"):
        assert key not in report
    info = texts(findings, Severity.INFO)
    assert info[0] == f"config file: {tmp_path / 'config.toml'}"
    assert info[1] == "default provider: lit"
    assert (
        "provider lit: kind openai, url https://api.openai.com/v1, model gpt-5-mini,"
        " key config file api_key: set"
    ) in info
    assert f"key api_key_cmd ({sys.executable}): set" in report
    assert "provider env: kind gemini" in report and "key $G_KEY: set" in report
    assert "key $NOT_SET_KEY: missing" in report
    assert "url http://127.0.0.1:8080/v1, model gpt-5-mini, key none: not needed" in report
    assert "provider demo: kind demo, url (in-process), model demo, key none" in report
    assert texts(findings, Severity.PROBLEM) == [
        "providers.gone.api_key_env: environment variable NOT_SET_KEY is not set"
    ]


def test_doctor_ok_and_defaults_report(tmp_path: Path) -> None:
    findings = doctor(load_config(env={}, cwd=tmp_path), env={})
    info = texts(findings, Severity.INFO)
    assert info[0].startswith("config file: none (defaults from the environment; looked for ")
    assert any(line.startswith("tools: workspace ") for line in info)
    assert all(f.severity is Severity.INFO for f in findings)


def test_doctor_flags_failed_command(tmp_path: Path) -> None:
    text = provider_with(cmd("import sys; print('sk-9'); sys.exit(2)"))
    findings = doctor(load_text(tmp_path, text), env={})
    problems = texts(findings, Severity.PROBLEM)
    assert any("exited with status 2" in line for line in problems)
    assert len(problems) == 1
    assert "sk-9" not in "\n".join(f.text for f in findings)


def test_stream_limits_are_read_per_provider_and_reach_the_settings(tmp_path: Path) -> None:
    text = provider_with(
        'max_event_mb = 64\nmax_response_mb = 0.5\nmax_response_seconds = 90\napi_key = "k"'
    )
    provider = load_text(tmp_path, text).providers["p"]
    limits = resolve_settings(provider, env={}).limits
    assert limits.max_event_bytes == 64 * 1024 * 1024
    assert limits.max_response_bytes == 512 * 1024
    assert limits.max_seconds == 90.0
    default = load_text(tmp_path, provider_with('api_key = "k"')).providers["p"].limits
    assert default == StreamLimits()


@pytest.mark.parametrize("key", ["max_event_mb", "max_response_mb", "max_response_seconds"])
def test_stream_limits_must_be_positive_numbers(tmp_path: Path, key: str) -> None:
    message = error_of(tmp_path, provider_with(f"{key} = 0"))
    assert f"providers.p.{key}: must be a positive number up to " in message

"""The config file: TOML read into frozen, typed objects.

The file lives at ``$CHATTUI_CONFIG`` or ``<user config dir>/chattui/config.toml``
(see ``tui.core.locations``). Every key is optional; a full example::

    default_provider = "local"   # default: the first provider in the file

    [providers.local]
    kind = "openai"              # openai | openai-responses | anthropic | gemini | ollama | demo
                                 # (default: the table name, when it is one of these)
    base_url = "http://127.0.0.1:8080/v1"
    model = "qwen2.5-coder"
    api_key_env = "LOCAL_KEY"    # or api_key = "...", or api_key_cmd = ["pass", "show", "llm"]
    timeout = 300                # read timeout in seconds
    max_retries = 2
    headers = { "X-Title" = "chattui" }
    system_prompt = "..."
    max_tokens = 8192
    max_event_mb = 32            # one SSE line/event or NDJSON line, at most
    max_response_mb = 256        # one response body, decompressed, at most
    max_response_seconds = 3600  # one response, start to end, at most
    cache = true                 # Anthropic prompt-cache breakpoints (others cache on their own)
    reasoning = "medium"         # off | low | medium | high (default: the model's own)
    price = { input = 3.0, output = 15.0, cache_read = 0.3, cache_write = 3.75 }  # USD/Mtok

    [tools]
    workspace = "."              # the only place file tools may touch (relative to the cwd)
    approval = "ask"             # ask | auto (inside the workspace) | deny
    enabled = ["save_file", "edit_file", "read_file", "list_files"]
    max_steps = 25               # tool-loop bound per prompt

Defaults per kind:

| kind | base_url | model | key |
|---|---|---|---|
| openai, openai-responses | https://api.openai.com/v1 | gpt-5-mini | $OPENAI_API_KEY |
| anthropic | https://api.anthropic.com | claude-sonnet-4-5 | $ANTHROPIC_API_KEY |
| gemini | https://generativelanguage.googleapis.com/v1beta | gemini-2.5-flash | $GEMINI_API_KEY |
| ollama | http://127.0.0.1:11434 | (required) | none |
| demo | (in-process) | demo | none |

Keys: give at most one of ``api_key`` (a literal; keep the file ``chmod 600``),
``api_key_env`` (a variable name) or ``api_key_cmd`` (a command run without a shell,
whose first line of output is the key). With none of them, the kind's key variable is
used, but only when ``base_url`` is the kind's default: a vendor key is never sent to
another server, so a local OpenAI-compatible server is keyless unless given a key.
Keys are resolved only when a provider is used (``tui.core.keys.resolve_settings``).

Without a config file, ``$OPENAI_API_KEY`` selects provider "openai", else
``$ANTHROPIC_API_KEY`` selects "anthropic", else the offline "demo" provider. A file
named by ``--config`` or ``$CHATTUI_CONFIG`` must exist. This module never writes the file.

One validation path
-------------------
``chattui config`` (the doctor, ``tui.core.keys.doctor``) and every run load the file
with ``load_config``, so whatever a run would reject must be rejected *here*, while
loading, with the file and line/column (syntax) or the key path (schema). The doctor
adds only what cannot be known before the run: resolving each key source. A check that
lives anywhere else (in the tool registry, a provider, the session) is a config the
doctor calls "ok" and the run refuses.

Where the pieces live: ``load`` (the file, ``Config``, ``load_config``), ``provider``
(``[providers.NAME]``: kinds, presets, keys, limits, prices), ``tools`` (``[tools]``),
``values`` (``ConfigError`` and the typed readers) and ``tui.core.mcp.config`` (``[mcp]``).

To add a key or a section:

1. add the key to its section's allowed tuple (``TOP_KEYS``, ``PROVIDER_KEYS``,
   ``TOOLS_KEYS``, or a new ``<SECTION>_KEYS``); unknown keys are refused by
   ``check_keys`` at every level;
2. read it in the section's ``parse_<section>`` with the typed readers of ``values``
   (``read_string``, ``read_number``, ``read_integer``, ``read_boolean``, ...), which raise
   ``ConfigError`` naming the key path; add a field to the section's frozen dataclass;
3. check every value the way its consumer would: if the consumer has its own rule (a
   set of known names, a parser), expose that rule as a function there and call it here,
   as ``parse_tools`` does with ``tui.core.tools.specs.unknown_tools``, so there is
   one rule, not two;
4. name untrusted text in messages through ``shown`` / ``key_path`` (escapes control and
   bidi characters); never echo a value that may be a secret;
5. for a new section: add it to ``TOP_KEYS`` and ``SECTION_KEYS``, parse it in
   ``load._build`` and add a field to ``Config``; add a line to ``doctor``'s report;
6. give each new key a valid-value strategy in ``tests/support/configs.py`` (its schema
   table must cover ``SECTION_KEYS``, a test checks it), so the property tests generate
   configs with it, valid and broken.
"""

from tui.core.config.load import MAX_CONFIG_BYTES, SECTION_KEYS, Config, load_config
from tui.core.config.provider import (
    KINDS,
    MAX_MB,
    MAX_PRICE,
    MAX_RETRIES,
    MAX_TIMEOUT,
    Headers,
    ProviderConfig,
    default_key_env,
)
from tui.core.config.tools import APPROVALS, ToolsConfig, workspace_problem
from tui.core.config.values import ConfigError, provider_path
from tui.core.tools.names import DEFAULT_TOOLS

__all__ = [
    "APPROVALS",
    "DEFAULT_TOOLS",
    "KINDS",
    "MAX_CONFIG_BYTES",
    "MAX_MB",
    "MAX_PRICE",
    "MAX_RETRIES",
    "MAX_TIMEOUT",
    "SECTION_KEYS",
    "Config",
    "ConfigError",
    "Headers",
    "ProviderConfig",
    "ToolsConfig",
    "default_key_env",
    "load_config",
    "provider_path",
    "workspace_problem",
]

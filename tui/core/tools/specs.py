"""The built-in tools as the model sees them: name, description and argument schema.

``SPECS`` is the one list of tool names: the config loader checks ``[tools] enabled``
against it (``unknown_tools``) and ``ToolRegistry`` offers the enabled ones, so a name the
loader accepts is a name the registry can build.
"""

from __future__ import annotations

from collections.abc import Iterable

from providers.conversation import ToolSpec
from tui.core.tools import command

_PATH_HELP = "Path relative to the workspace root, e.g. 'src/app.py'."
SPECS: dict[str, ToolSpec] = {
    "save_file": ToolSpec(
        name="save_file",
        description="Create or overwrite a UTF-8 text file inside the workspace with the "
        "complete new content. Missing parent directories are created. The user may be "
        "shown a diff and asked to approve.",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": _PATH_HELP},
                "content": {"type": "string", "description": "The complete file content."},
            },
            "required": ["path", "content"],
            "additionalProperties": False,
        },
    ),
    "edit_file": ToolSpec(
        name="edit_file",
        description="Replace an exact piece of an existing UTF-8 text file. old_string must "
        "match the file exactly (whitespace and indentation included) and occur exactly "
        "once, unless replace_all is true; include enough surrounding lines to make it "
        "unique. Use save_file to create a file. The user may be shown the diff and asked "
        "to approve.",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": _PATH_HELP},
                "old_string": {"type": "string", "description": "The exact text to replace."},
                "new_string": {"type": "string", "description": "The text to put instead."},
                "replace_all": {
                    "type": "boolean",
                    "default": False,
                    "description": "Replace every occurrence instead of exactly one.",
                },
            },
            "required": ["path", "old_string", "new_string"],
            "additionalProperties": False,
        },
    ),
    "read_file": ToolSpec(
        name="read_file",
        description="Read a text file inside the workspace. Returns the requested lines; "
        "a first line like '[lines 1-2000 of 5000; ...]' says when the result is partial.",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": _PATH_HELP},
                "offset": {
                    "type": "integer",
                    "minimum": 1,
                    "default": 1,
                    "description": "First line to return, 1-based.",
                },
                "limit": {
                    "type": "integer",
                    "minimum": 1,
                    "default": 2000,
                    "description": "Maximum number of lines to return.",
                },
            },
            "required": ["path"],
            "additionalProperties": False,
        },
    ),
    "list_files": ToolSpec(
        name="list_files",
        description="List files and directories inside the workspace, sorted; directories "
        "end with '/'. The glob pattern is matched against paths relative to 'path': "
        "'*' stays within one directory, '**' spans directories (e.g. '**/*.py'). "
        ".git is never listed.",
        parameters={
            "type": "object",
            "properties": {
                "path": {"type": "string", "default": ".", "description": _PATH_HELP},
                "pattern": {"type": "string", "default": "*", "description": "Glob pattern."},
            },
            "additionalProperties": False,
        },
    ),
    "run_command": ToolSpec(
        name="run_command",
        description="Run a shell command (bash -c) in the workspace directory and get its exit "
        "status and output (stdout and stderr together; long output is cut in the middle). "
        "No input is given (stdin is closed) and the environment is minimal. The user is "
        "usually asked to approve each command.",
        parameters={
            "type": "object",
            "properties": {
                "command": {"type": "string", "description": "The command line, e.g. 'pytest -q'."},
                "timeout": {
                    "type": "integer",
                    "minimum": 1,
                    "default": command.DEFAULT_TIMEOUT,
                    "description": "Seconds before the command is stopped "
                    f"(at most {command.MAX_TIMEOUT}).",
                },
            },
            "required": ["command"],
            "additionalProperties": False,
        },
    ),
}


def known_tools() -> tuple[str, ...]:
    """Every tool name ``[tools] enabled`` may list, in their usual order.

    The config loader and ``ToolRegistry`` both ask here, so a name the loader accepts
    is a name the registry can build.
    """
    return tuple(SPECS)


def unknown_tools(names: Iterable[str]) -> list[str]:
    """The names in ``names`` that are not tools (see ``known_tools``), in order."""
    known = known_tools()
    return [name for name in names if name not in known]

"""The tool names and approval policies that the config loader and the registry share.

Standard library only and no imports, so the config loader can check ``[tools]`` against
these without loading the tools themselves (``run_command`` alone brings in asyncio).
"""

DEFAULT_TOOLS = ("save_file", "edit_file", "read_file", "list_files")
"""The tools offered when ``[tools] enabled`` is not given."""
POLICIES = ("ask", "auto", "deny")
"""The values of ``[tools] approval`` (see ``tui.core.tools.registry``)."""
WRITE_TOOLS = frozenset({"save_file", "edit_file"})
"""Tools that change files; only these (and ``run_command``) ever need approval."""

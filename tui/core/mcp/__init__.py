"""MCP (Model Context Protocol) servers: their config, processes, tools and results.

``config`` parses ``[mcp.servers.NAME]`` tables (no SDK import); ``naming`` makes
the tool names the model sees; ``schema`` translates input schemas per wire
format; ``results`` turns a server's result into a ``ToolResult``; ``manager``
runs the servers (the official ``mcp`` SDK, imported only there, in a thread of
its own); ``tools`` plugs the manager into the tool registry.
"""

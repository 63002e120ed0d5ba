"""chattui: the application (config, session and tool loop, transcripts, pipe mode, TUI)."""

__version__ = "0.1.0"

"""chattui's Textual front end: the app, the palette, pacing, widgets and Markdown.

It draws what ``tui.core`` produces and never talks to a provider itself: the
session's events come in, the user's prompts and approvals go back. Every reach
into a Textual or Rich internal lives in ``tui.ui.compat``.
"""

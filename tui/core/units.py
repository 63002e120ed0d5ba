"""Quantities as people read them (sizes in the tool card, approval titles, MCP result notes)."""

from __future__ import annotations


def human_size(count: int) -> str:
    """Bytes as ``512 B``, ``1.2 KB`` or ``3.4 MB``."""
    if count < 1024:
        return f"{count} B"
    if count < 1024 * 1024:
        return f"{count / 1024:.1f} KB"
    return f"{count / (1024 * 1024):.1f} MB"

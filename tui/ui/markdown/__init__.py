"""The Markdown engine behind an answer: blocks (splitting), render (Rich lines), view (widget).

One widget per answer; only the open block re-renders while the answer streams.
"""

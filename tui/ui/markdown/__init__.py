"""The Markdown engine behind an answer: blocks (splitting), render (Rich lines), document
(the blocks' lines, no widget), view (the widget).

One widget per answer; only the open block re-renders while the answer streams.
"""

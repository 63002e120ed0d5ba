"""chattui's core: everything that runs without a screen.

Config, keys, locations, the session (the tool loop), sanitizing, the live
partial-JSON repairer, the tools and the transcripts. Pipe mode, ``chattui
export`` and the Textual front end all build on it. It imports no Textual,
Rich or Pygments (``tests/unit/test_imports.py`` checks it), so a change here
never needs a terminal to test.
"""

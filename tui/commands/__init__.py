"""The command line: ``bp-tui`` and its subcommands, one module each.

``cli`` parses the command line and dispatches; ``headless`` runs ``run`` and
``gradcheck`` without a terminal UI; ``dashboard`` and ``replay`` start the Textual app
on a live run or a recording; ``screenshot`` exports the app as SVG or text. The app
itself (screens, panes, sources) is the rest of ``bp_tui.tui`` and never imports from
here.
"""

"""Stage 3, report: reads a finished Edition and turns it into words, tables, charts and pages.
It never computes a statistic and never opens a raw file: cell notes in words (``notes``), the
six-part series (``series/``), LA profiles (``profile``, ``profiles``), charts (``plotting``,
``hexmap``), HTML from Jinja2 templates (``templates/``) and notebook rendering (``render``).
"""

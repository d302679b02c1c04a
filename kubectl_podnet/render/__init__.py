"""For people and for CI: reports, maps and connects as text, JSON/YAML, JUnit, dot, mermaid. Pure.

Renderers take finished reports and return strings; exact widths, no colour, so they are
tested as exact text.
"""

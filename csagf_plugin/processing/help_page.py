"""The help page shipped with the plugin (resources/help/index.html), written from the algorithms themselves.

Each algorithm's helpUrl points at its section (index.html#classify), so the text a user reads beside the dialog is
the same as the dialog's own help; scripts/make_help_page.py rewrites the page and a test checks it is current.
"""

from __future__ import annotations

import html

from qgis.core import QgsProcessingParameterDefinition

TITLE = "CSAGF urban functional zones: algorithm help"


def _parameter_rows(algorithm) -> list[str]:
    rows = []
    for definition in algorithm.parameterDefinitions():
        flags = definition.flags()
        notes = []
        if flags & QgsProcessingParameterDefinition.FlagOptional:
            notes.append("optional")
        if flags & QgsProcessingParameterDefinition.FlagAdvanced:
            notes.append("advanced")
        rows.append(f"<tr><td><code>{html.escape(definition.name())}</code></td>"
                    f"<td>{html.escape(definition.description())}"
                    f"{' <em>(' + ', '.join(notes) + ')</em>' if notes else ''}</td>"
                    f"<td>{html.escape(definition.help() or '')}</td></tr>")
    return rows


def help_page(algorithms) -> str:
    """The HTML page: a contents list, then one section per algorithm with its parameters."""
    algorithms = sorted(algorithms, key=lambda a: a.displayName())
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{TITLE}</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:auto;padding:1em;line-height:1.4}"
             "table{border-collapse:collapse}td{border:1px solid #ccc;padding:.3em;vertical-align:top}"
             "code{white-space:nowrap}</style></head><body>", f"<h1>{TITLE}</h1>", "<ul>"]
    parts += [f'<li><a href="#{a.name()}">{html.escape(a.displayName())}</a> (<code>csagf:{a.name()}</code>)</li>'
              for a in algorithms]
    parts.append("</ul>")
    for algorithm in algorithms:
        parts.append(f'<h2 id="{algorithm.name()}">{html.escape(algorithm.displayName())}</h2>')
        parts.append(f"<p><code>csagf:{algorithm.name()}</code></p>")
        parts.append(f"<p>{html.escape(algorithm.shortHelpString())}</p>")
        parts.append("<table><tr><th>key</th><th>parameter</th><th>what it is</th></tr>")
        parts += _parameter_rows(algorithm)
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"

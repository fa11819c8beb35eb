"""The browser's copy of Vega, Vega-Lite and Vega-Embed, served by valuegap itself (no CDN: the
dashboard works on a network with no way out). ``vl-convert`` carries the libraries and bundles
them in about a second, so it is done once per process.

Vega compiles its expressions with ``new Function`` unless it is given an interpreter, which a
Content Security Policy without 'unsafe-eval' forbids: Vega-Embed carries Vega's CSP-safe
expression interpreter and uses it when the embed options say ``ast: true`` (``EMBED_OPTIONS``).
"""

from __future__ import annotations

from functools import cache
from typing import Any

SNIPPET = "window.vegaEmbed = vegaEmbed; window.vegaLite = vegaLite; window.vega = vega;"

# What a page passes to vegaEmbed: drawn as SVG, without the action menu, with expressions
# interpreted rather than compiled (CSP-safe), and without the style elements Vega-Embed and
# its tooltip would add to the page (inline styles, which a CSP without 'unsafe-inline'
# refuses): the page's own style sheet styles the tooltip instead (``TOOLTIP_CSS``).
EMBED_OPTIONS: dict[str, Any] = {
    "actions": False,
    "renderer": "svg",
    "ast": True,
    "defaultStyle": False,
    "tooltip": {"disableDefaultStyle": True},
}

# The tooltip's look, for a page's style sheet (Vega's tooltip element and its table).
TOOLTIP_CSS = """\
#vg-tooltip-element {
  visibility: hidden; position: fixed; z-index: 1000; padding: 6px 8px; max-width: 320px;
  font: 12px Helvetica, Arial, sans-serif; color: #111827; background: #fff;
  border: 1px solid #d1d5db; border-radius: 4px; box-shadow: 0 2px 6px rgba(0, 0, 0, 0.15);
  pointer-events: none;
}
#vg-tooltip-element.visible { visibility: visible; }
#vg-tooltip-element h2 { margin: 0 0 4px; font-size: 13px; }
#vg-tooltip-element table { border-spacing: 0; }
#vg-tooltip-element td { padding: 1px 0; vertical-align: top; }
#vg-tooltip-element td.key { color: #4b5563; padding-right: 6px; text-align: right; }
#vg-tooltip-element td.value { text-align: left; }
"""


@cache
def javascript() -> str:
    """One script that sets ``window.vegaEmbed``, ``window.vegaLite`` and ``window.vega``."""
    import vl_convert

    return str(vl_convert.javascript_bundle(SNIPPET))

"""Charts: one Vega-Lite spec per chart (``specs``), drawn in the browser from the bundled Vega
libraries (``bundle``) and rendered to SVG, PNG or PDF for reports (``render``)."""

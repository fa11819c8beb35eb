"""Charts as Vega-Lite specs (``specs``): drawn in the browser from the bundled Vega libraries
(``bundle``), and rendered to SVG, PNG or PDF for reports (``render``). One spec, both outputs.
The executive report (``executive``) is made of them."""

"""Adoption without surveillance: the pseudonymisation key (``keys``, ``key_api``), adoption
data and its retention (``api``), the disclosure partition into groups of at least k people
(``anonymity``), the ladder (``ladder``), the conviction distance (``conviction``) and the
reports that show them per group (``reports``)."""

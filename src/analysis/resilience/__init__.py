"""Veerkrachtindex: standardised, direction-aligned indicators -> domain and composite scores,
trend component, signal classes, validation against the programme's focus list and sensitivity."""

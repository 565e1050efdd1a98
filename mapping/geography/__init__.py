"""Geography: vintage conversion (LSOA 2011 → 2021), apportioning (MSOA → LSOA), roll-ups
(LSOA → ward → borough) and geometry checks and light web geometry."""

"""The DO-365 detect-and-avoid logic as NASA DAIDALUS implements it: ownship-centred alerting,
manoeuvre guidance bands and resolutions (SI inside; the project's edge units outside)."""

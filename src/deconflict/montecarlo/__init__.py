"""montecarlo room: Monte Carlo studies of procedures over a simulated scenario."""

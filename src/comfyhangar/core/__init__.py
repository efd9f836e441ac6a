"""Domain: models, errors with codes, status rules, cost math. No I/O."""

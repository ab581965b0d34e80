"""Storage tiers: the raw points, their 1-minute and 1-hour rollups, and how long each is kept."""

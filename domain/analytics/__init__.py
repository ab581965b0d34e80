"""Analytics: the input grid and the typed, JSON-ready result of each analysis kind."""

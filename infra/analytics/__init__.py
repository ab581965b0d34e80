"""Analytics adapters: the batch methods (scipy, statsmodels, ruptures) behind each kind."""

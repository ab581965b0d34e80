"""NAB (Numenta Anomaly Benchmark) data, scoring and baselines for `bench.anomaly`."""

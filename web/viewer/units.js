// Numbers with their unit, as a monitoring dashboard shows them: integers stay integers,
// bytes in KiB/MiB/GiB, durations in ms/s/min/h, other units with k/M/G prefixes. A value
// and an axis share the scaling, so ticks of one axis all read in the same unit.
(function () {
  "use strict";
  const BINARY = [
    [1024 ** 4, "TiB"],
    [1024 ** 3, "GiB"],
    [1024 ** 2, "MiB"],
    [1024, "KiB"],
    [1, "B"],
  ];
  const SECONDS = [
    [86400, "d"],
    [3600, "h"],
    [60, "min"],
    [1, "s"],
    [1e-3, "ms"],
    [1e-6, "µs"],
  ];
  const SI = [
    [1e12, "T"],
    [1e9, "G"],
    [1e6, "M"],
    [1e3, "k"],
  ];

  // The divisor and the suffix for `magnitude` (the largest absolute value to show).
  function scaleFor(unit, magnitude) {
    const u = (unit || "").trim();
    if (!(magnitude > 0)) {
      const name = u === "bytes" ? "B" : u;
      return { divisor: 1, suffix: name ? " " + name : "" };
    }
    const steps = (table, base) => table.find(([size]) => magnitude >= size * base);
    if (u === "bytes" || u === "B") {
      const [size, name] = steps(BINARY, 1) || BINARY[BINARY.length - 1];
      return { divisor: size, suffix: " " + name };
    }
    if (u === "s" || u === "ms" || u === "µs" || u === "us") {
      const base = u === "s" ? 1 : u === "ms" ? 1e-3 : 1e-6;
      const [size, name] = steps(SECONDS, 1 / base) || SECONDS[SECONDS.length - 1];
      return { divisor: size / base, suffix: " " + name };
    }
    const [size, prefix] = (u !== "%" && steps(SI, 1)) || [1, ""];
    const suffix = u === "%" ? " %" : prefix + (u ? " " + u : "");
    return { divisor: size, suffix: suffix };
  }

  function trimmed(text) {
    return text.includes(".") ? text.replace(/\.?0+$/, "") : text;
  }

  // One value (stat, gauge, table, legend): about three significant digits.
  function formatValue(value, unit) {
    if (value === null || value === undefined || Number.isNaN(value)) return "–";
    const { divisor, suffix } = scaleFor(unit, Math.abs(value));
    const scaled = value / divisor;
    if (Number.isInteger(scaled)) return scaled + suffix;
    const abs = Math.abs(scaled);
    const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
    const text = scaled.toFixed(digits);
    return trimmed(Number(text) === 0 ? scaled.toPrecision(2) : text) + suffix;
  }

  // The ticks of one axis: one scaling for all, as many decimals as the step needs.
  function formatTicks(ticks, unit, increment) {
    const magnitude = Math.max(...ticks.map((t) => Math.abs(t)));
    const { divisor, suffix } = scaleFor(unit, magnitude);
    const step = Math.abs(increment || ticks[1] - ticks[0] || 1) / divisor;
    const digits = Math.min(6, Math.max(0, -Math.floor(Math.log10(step) + 1e-9)));
    const zero = "0" + scaleFor(unit, 0).suffix;
    return ticks.map((t) => (t === 0 ? zero : (t / divisor).toFixed(digits) + suffix));
  }

  // Tick increments of a byte axis: powers of two, so ticks fall on 256 MiB, 0.5 GiB, 1 GiB.
  const BYTE_INCREMENTS = Array.from({ length: 50 }, (_, power) => 2 ** power);

  // Counts (every value whole) get whole ticks: no "0.2 connections".
  const WHOLE_INCREMENTS = Array.from({ length: 16 }, (_, power) =>
    [1, 2, 5].map((m) => m * 10 ** power)
  ).flat();

  function incrementsFor(unit, whole) {
    if (unit === "bytes" || unit === "B") return BYTE_INCREMENTS;
    return whole && !unit ? WHOLE_INCREMENTS : undefined;
  }

  window.vigilUnits = { formatValue, formatTicks, incrementsFor };
})();

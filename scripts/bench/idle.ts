// The baseline for the agent footprint benchmark: a compiled Bun program that only sets a 5 s timer.
setInterval(() => {}, 5000);

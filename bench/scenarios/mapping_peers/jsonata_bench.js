// jsonata-js side of the mapping scenario: evaluations/s of a precompiled expression.
// usage: node jsonata_bench.js <node_modules dir> <expr file> <order.json> <seconds>
const path = require("path");
const fs = require("fs");
const [modules, exprFile, dataFile, seconds] = process.argv.slice(2);
const jsonata = require(path.join(modules, "jsonata"));
const expr = jsonata(fs.readFileSync(exprFile, "utf8"));
const data = JSON.parse(fs.readFileSync(dataFile, "utf8"));

async function loop(durationMs) {
  let n = 0;
  let result;
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(durationMs * 1e6));
  while (true) {
    for (let i = 0; i < 100; i++) result = await expr.evaluate(data);
    n += 100;
    if (process.hrtime.bigint() >= end) break;
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  return { n, secs, result };
}

(async () => {
  await loop(1000); // warm-up (JIT)
  const { n, secs, result } = await loop(Number(seconds) * 1000);
  process.stdout.write(JSON.stringify({ evals_per_s: n / secs, evaluations: n, result,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024 }));
})();

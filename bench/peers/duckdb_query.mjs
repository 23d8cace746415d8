// DuckDB peer of cube_bench (f), run by cube_bench through node; see bench/README.md.
//
//   node bench/peers/duckdb_query.mjs --csv FILE --indicators K --sql FILE [--threads 2] [--runs 3]
//
// Loads FILE (no header; period, unit, county, township, division, size, state, v0 .. v{K-1};
// an empty field is NULL) into an in-memory DuckDB table `obs`, runs the query in the --sql file
// once as a warm-up and then --runs times, and prints one JSON object on stdout:
//   {"version", "threads", "load_ms", "query_ms": [...], "query_cpu_ms": [...],
//    "county": [[county, sum0_cur, sum0_prev], ...]}
// query_cpu_ms is the process's CPU time (all threads, user + system) during each timed run.
// The query's first three columns are the county and the comparable sums of indicator 0.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';

function args(argv) {
  const a = { threads: 2, runs: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!['csv', 'indicators', 'sql', 'threads', 'runs'].includes(key) || i + 1 >= argv.length) {
      throw new Error(`unknown or incomplete argument ${argv[i]}`);
    }
    a[key] = argv[i + 1];
  }
  if (!a.csv || !a.indicators || !a.sql) throw new Error('--csv, --indicators and --sql are required');
  return { ...a, indicators: Number(a.indicators), threads: Number(a.threads), runs: Number(a.runs) };
}

const sqlString = (s) => `'${String(s).replaceAll("'", "''")}'`;

async function main() {
  const a = args(process.argv.slice(2));
  const query = readFileSync(a.sql, 'utf8');
  const instance = await DuckDBInstance.create(':memory:', { threads: String(a.threads) });
  const con = await instance.connect();
  const version = (await con.runAndReadAll('SELECT version()')).getRows()[0][0];

  const columns = ['period', 'unit', 'county', 'township', 'division', 'size', 'state'].map(
    (c) => `${sqlString(c)}: ${c === 'unit' ? "'BIGINT'" : "'INTEGER'"}`,
  );
  for (let k = 0; k < a.indicators; ++k) columns.push(`'v${k}': 'DOUBLE'`);
  const t0 = performance.now();
  await con.run(
    `CREATE TABLE obs AS SELECT * FROM read_csv(${sqlString(a.csv)}, header = false, ` +
      `delim = ',', quote = '', escape = '', auto_detect = false, columns = {${columns.join(', ')}})`,
  );
  const loadMs = performance.now() - t0;

  const queryMs = [];
  const queryCpuMs = [];
  let rows = [];
  for (let run = 0; run <= a.runs; ++run) {
    const t = performance.now();
    const cpu = process.cpuUsage();
    rows = (await con.runAndReadAll(query)).getRows();
    const used = process.cpuUsage(cpu);
    if (run > 0) {
      // run 0 is the warm-up
      queryMs.push(performance.now() - t);
      queryCpuMs.push((used.user + used.system) / 1000);
    }
  }
  const county = rows.map((r) => [Number(r[0]), Number(r[1] ?? 0), Number(r[2] ?? 0)]);
  process.stdout.write(
    JSON.stringify({
      version,
      threads: a.threads,
      load_ms: loadMs,
      query_ms: queryMs,
      query_cpu_ms: queryCpuMs,
      county,
    }) + '\n',
  );
  con.closeSync?.();
  instance.closeSync?.();
}

main().catch((e) => {
  process.stderr.write(`duckdb_query: ${e.stack ?? e}\n`);
  process.exit(1);
});

// A cluster worker for the counter-store test: hits one quota window through the master's counter
// service and reports how many of its hits were within the limit, and how many spike-arrest slots
// it got without (`spikes`) and with a buffer of 2 (`buffered`).
import { ClusterStore } from '../../../src/plugins/stores/cluster-store.js';

const store = new ClusterStore();
const hits = Number(process.env.HITS);
const allow = Number(process.env.ALLOW);
const sequential = process.env.SEQUENTIAL === '1';
let results: Array<{ count: number }>;
if (sequential) {
  results = [];
  for (let i = 0; i < hits; i++) results.push(await store.hit('o.e.app.P', 60_000, 1));
} else results = await Promise.all(Array.from({ length: hits }, () => store.hit('o.e.app.P', 60_000, 1)));
const admitted = results.filter((r) => r.count <= allow).length;
const spikes = await Promise.all(Array.from({ length: 20 }, () => store.reserve('o.e._default', 60_000, 0)));
const buffered = await Promise.all(
  Array.from({ length: 20 }, () => store.reserve('o.e2._default', 60_000, 2)),
);
process.send!({
  type: 'result',
  admitted,
  counts: results.map((r) => r.count),
  spikes: spikes.filter(Boolean).length,
  buffered: buffered.filter(Boolean).length,
});
await store.close();
process.disconnect();

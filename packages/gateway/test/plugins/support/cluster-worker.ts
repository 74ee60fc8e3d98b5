// A cluster worker for the counter-store test: hits one quota window through the master's counter
// service and reports how many of its hits were within the limit.
import { ClusterStore } from '../../../src/plugins/stores/cluster-store.js';

const store = new ClusterStore();
const hits = Number(process.env.HITS);
const allow = Number(process.env.ALLOW);
const results = await Promise.all(Array.from({ length: hits }, () => store.hit('o.e.app.P', 60_000, 1)));
const admitted = results.filter((r) => r.count <= allow).length;
const spikes = await Promise.all(Array.from({ length: 20 }, () => store.admit('o.e._default', 60_000)));
process.send!({
  type: 'result',
  admitted,
  counts: results.map((r) => r.count),
  spikes: spikes.filter(Boolean).length,
});
await store.close();
process.disconnect();

// Worker processes for products built on the engine: the primary's supervisor (fork, roll on reload,
// drain on stop) and the worker side. A separate entry point, so that a primary importing it does not
// load the engine's modules.
export { Supervisor, type SupervisorOptions } from './supervisor.js';
export { runWorker, type WorkerOptions } from './worker.js';
export { parseWorkerCount } from './worker-count.js';

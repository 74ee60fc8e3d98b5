import type { MachineInfo } from '../env/machine.js';
import type { SystemResult, Timing } from '../measure/types.js';
import type { SystemName } from '../peers/types.js';
import type { Primary } from '../scenarios/types.js';

export interface ScenarioReport {
  name: string;
  title: string;
  primary: Primary;
  loadKind: 'wrk' | 'h2load' | 'idle' | 'ws';
  pending?: string;
  /** The scenario's set-up and accounting, printed under its table. */
  note?: string;
  results: SystemResult[];
}

export interface Report {
  date: string;
  mode: 'quick' | 'full' | 'custom';
  timing: Timing;
  command: string;
  machine: MachineInfo;
  systems: SystemName[];
  scenarios: ScenarioReport[];
}

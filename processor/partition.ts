// One partition as the processor holds it: the hour window's state (hour-window/) and the cost
// model's state of the same clusters, so a revoked partition's state goes away whole.
import type { Logger } from 'pino';
import type { PartitionStart } from '../ingest/record-log.ts';
import type { HourlyCostModel } from './cost-model-port.ts';
import { createPartitionState, type PartitionState } from './hour-window/partition-state.ts';

export interface Partition<ModelRow> extends PartitionState {
  readonly model: HourlyCostModel<ModelRow>;
}

export function openPartition<ModelRow>(partition: number, start: PartitionStart, model: HourlyCostModel<ModelRow>, log: Logger): Partition<ModelRow> {
  const state: Partition<ModelRow> = { ...createPartitionState(partition, start), model };
  log.info(
    { partition, committed: start.committed?.toString(), end: start.end.toString(), contextFloor: state.contextFloor, clusterFloors: Object.fromEntries(state.clusterFloors) },
    'partition state started',
  );
  return state;
}

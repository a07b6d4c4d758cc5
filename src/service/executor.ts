// The executor port moved to src/executor/port.ts (a leaf both service/ and host/ import).
// This re-export keeps branches written before the move compiling; import the port directly.
export type {DeployOutcome, ExecutorHooks, LiveMemberHealth, LiveStats, PoolExecutor} from '../executor/port.js'

/** The in-house Gearman protocol: codec, worker, client, admin (SPEC §5). */
export {adminCommand, adminStatus, adminVersion, adminWorkers, type AdminOptions} from './admin.js'
export {GearmanClient, type GearmanClientOptions, type SubmitOptions} from './client.js'
export {
  encodePacket,
  PacketDecoder,
  PacketType,
  type FunctionStatus,
  type Packet,
  type WorkerConnection,
} from './codec.js'
export {
  formatServer,
  loadTlsMaterial,
  parseServerAddress,
  type GearmanLogger,
  type GearmanLogLevel,
  type ServerAddress,
  type TlsFiles,
} from './connection.js'
export {GearmanJobFailedError, GearmanProtocolError, GearmanTimeoutError, GearmanUnavailableError} from './errors.js'
export {GearmanWorker, type GearmanJob, type GearmanWorkerOptions, type JobHandler} from './worker.js'

/** What the planner reads of the state file: every object, with its stack label. */
import type {Association, Certificate, Member, Monitor, Pool, Subnet, Vip} from '../domain/types.js'

export type Labelled<T> = T & {stack: string | null}

export interface StateSnapshot {
  subnets: Labelled<Subnet>[]
  monitors: Labelled<Monitor>[]
  pools: Labelled<Pool>[]
  /** In creation order. */
  members: Member[]
  /** In association order. */
  associations: Association[]
  vips: Labelled<Vip>[]
  /** With the sha256 of their key (never the key): a rotation is a new fingerprint or a new key. */
  certs: Labelled<Certificate & {key_sha256: string}>[]
}

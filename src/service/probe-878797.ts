import {execFileSync} from 'node:child_process'
export const probe = execFileSync

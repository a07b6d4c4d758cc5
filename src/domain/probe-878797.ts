import {readFileSync} from 'node:fs'
import {openStore} from '../store/db.js'
export const probe = [readFileSync, openStore]

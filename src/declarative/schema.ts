/**
 * The JSON Schema of the apply file (draft 2020-12), printed by `lbaas schema` so editors
 * validate and complete files, and used by apply itself (ajv) so both agree. Value rules
 * the schema cannot say (timeout ≤ delay, an address inside its subnet) are checked by
 * the same validation as the commands (validate.ts).
 */
const NAME = {type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$'}
const DISPLAY_NAME = {type: 'string', minLength: 1, maxLength: 255}
const TEXT = {type: 'string', maxLength: 255}
const PORT = {type: 'integer', minimum: 1, maximum: 65535}
const BOOL = {type: 'boolean'}

export const APPLY_FILE_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://lbaas.invalid/schema/apply-file/v1.json',
  title: 'lbaas apply file',
  description: 'The desired state of one stack: subnets, health monitors and pools (with members and a VIP). `lbaas plan -f FILE` shows what `lbaas apply -f FILE` would change.',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'stack'],
  properties: {
    apiVersion: {const: 'lbaas/v1', description: 'Format version: lbaas/v1.'},
    stack: {...NAME, description: 'Owner label of every object this file makes; --prune deletes only objects with this label. 1–64 of A-Z a-z 0-9 . _ -'},
    certs: {
      type: 'array',
      description:
        'TLS certificates (SPEC §9), referred to by name from TERMINATED_HTTPS VIPs, checked like `lbaas cert create`. An entry with a name alone (what `lbaas export` writes) means: the certificate exists, keep it as is. New material for an existing name rotates it on every VIP serving it through the runtime API, without a reload.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: {
          name: {...NAME, description: 'Unique certificate name, 1–64 of A-Z a-z 0-9 . _ - (not shaped like a UUID).'},
          cert_file: {type: 'string', minLength: 1, description: 'PEM certificate (a fullchain.pem may carry the chain after the leaf); relative paths are from the apply file\'s directory (the current directory with -f -).'},
          key_file: {type: 'string', minLength: 1, description: 'PEM private key of the certificate, unencrypted (RSA ≥ 2048 or EC P-256/P-384).'},
          chain_file: {type: 'string', minLength: 1, description: 'PEM intermediates, from the one that signed the leaf towards the root.'},
          cert_pem: {type: 'string', minLength: 1, description: 'The certificate inline (instead of cert_file).'},
          key_pem: {type: 'string', minLength: 1, description: 'The private key inline (instead of key_file).'},
          chain_pem: {type: 'string', minLength: 1, description: 'The chain inline (instead of chain_file).'},
          fingerprint_sha256: {type: 'string', description: 'With a name alone: the SHA-256 fingerprint the existing certificate must have (export writes it; a renewed certificate makes the reference stale: plan reports it).'},
        },
      },
    },
    subnets: {
      type: 'array',
      description: 'Networks (Linux bridges) members and VIPs live on. Subnets cannot be changed in place.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'cidr'],
        properties: {
          name: {...NAME, description: 'Unique subnet name, 1–64 of A-Z a-z 0-9 . _ - (not shaped like a UUID).'},
          cidr: {type: 'string', description: 'IPv4 or IPv6 network, e.g. 198.18.0.0/24.'},
          gateway_ip: {type: 'string', description: 'Gateway inside the network; default: the first host address.'},
          bridge: {type: 'string', maxLength: 15, description: 'An existing bridge to attach to (never modified); default: a bridge lbaas creates.'},
        },
      },
    },
    monitors: {
      type: 'array',
      description: 'Health monitors, referred to by name from pools.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'type', 'delay', 'timeout', 'max_retries'],
        properties: {
          name: {...NAME, description: 'Unique monitor name, 1–64 of A-Z a-z 0-9 . _ -.'},
          type: {enum: ['PING', 'TCP', 'HTTP', 'HTTPS'], description: 'PING is a TCP connect check.'},
          delay: {type: 'integer', minimum: 1, description: 'Seconds between checks.'},
          timeout: {type: 'integer', minimum: 1, description: 'Seconds a check may take (≤ delay).'},
          max_retries: {type: 'integer', minimum: 1, maximum: 10, description: 'Checks in a row that take a member out or bring it back.'},
          http_method: {type: 'string', pattern: '^[A-Z]{1,16}$', description: 'HTTP method of the check; default GET.'},
          url_path: {type: 'string', maxLength: 255, pattern: '^/[\\x21-\\x7e]*$', description: 'Path of the check; default /.'},
          expected_codes: {type: 'string', description: 'Healthy statuses: 200, 200,202, 200-204 or 200,201-203; default 200.'},
          admin_state_up: {...BOOL, description: 'Default true.'},
        },
      },
    },
    pools: {
      type: 'array',
      description: 'Pools with their members and VIP. Within a listed pool the file is exact: members, monitors and the VIP not listed are removed.',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'subnet', 'protocol', 'lb_method'],
        properties: {
          name: {...DISPLAY_NAME, description: 'Unique pool name (no control characters, not shaped like a UUID).'},
          description: {...TEXT, description: 'Free text; default empty.'},
          subnet: {type: 'string', description: "Name of the members' subnet (in this file or already in the state)."},
          protocol: {enum: ['HTTP', 'HTTPS', 'TCP'], description: 'HTTPS is TLS pass-through (TCP mode). Cannot be changed in place.'},
          lb_method: {enum: ['ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP']},
          admin_state_up: {...BOOL, description: 'Default true.'},
          agent: {type: 'string', description: 'Where the pool runs: local, auto, or an agent name (SPEC §6); default local.'},
          monitors: {type: 'array', items: {type: 'string'}, description: 'Monitor names; the first admin-up one drives HAProxy.'},
          members: {
            type: 'array',
            description: 'Backend servers, keyed by (address, protocol_port) within the pool.',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['address', 'protocol_port'],
              properties: {
                address: {type: 'string', description: 'IPv4 or IPv6 address.'},
                protocol_port: PORT,
                weight: {type: 'integer', minimum: 0, maximum: 256, description: '0–256; 0 receives no new traffic; default 1.'},
                admin_state_up: {...BOOL, description: 'Default true.'},
              },
            },
          },
          vip: {
            type: ['object', 'null'],
            description: 'At most one; without it the pool is state only (not deployed).',
            additionalProperties: false,
            required: ['name', 'protocol_port'],
            properties: {
              name: {...DISPLAY_NAME, description: 'Unique VIP name.'},
              description: TEXT,
              subnet: {type: 'string', description: "Subnet name; default: the pool's."},
              protocol: {enum: ['HTTP', 'HTTPS', 'TCP', 'TERMINATED_HTTPS'], description: "Default: the pool's protocol (and must equal it), or TERMINATED_HTTPS on an HTTP pool: TLS ends at the VIP."},
              default_cert: {...NAME, description: 'TERMINATED_HTTPS only, required: the certificate (by name) served when no SNI certificate matches.'},
              sni_certs: {type: 'array', items: NAME, description: 'TERMINATED_HTTPS only: more certificates (by name), chosen by the name the client asks for.'},
              redirect_http: {...BOOL, description: 'TERMINATED_HTTPS only: answer port 80 of the VIP address with a 301 to https; default false.'},
              protocol_port: PORT,
              address: {type: 'string', description: 'Inside the subnet; default: the first free address, kept across applies once assigned.'},
              connection_limit: {type: 'integer', minimum: -1, description: '-1 (unlimited) or 1–the host maximum (lbaas doctor).'},
              session_persistence: {
                type: ['object', 'null'],
                additionalProperties: false,
                required: ['type'],
                properties: {
                  type: {enum: ['SOURCE_IP', 'HTTP_COOKIE', 'APP_COOKIE']},
                  cookie_name: {type: 'string', description: 'Required for APP_COOKIE, forbidden otherwise.'},
                },
              },
              syslog: {
                type: ['string', 'null'],
                description: 'Also send the access log to this syslog server (UDP): IPv4:PORT or [IPv6]:PORT, no host name. Default null.',
              },
              admin_state_up: {...BOOL, description: 'Default true.'},
            },
          },
        },
      },
    },
  },
} as const

/**
 * Schema migrations, applied in order; `PRAGMA user_version` holds how many ran.
 * Never edit a released migration: append a new one. Lists are ordered by rowid, which
 * is creation order (an association's rowid is its association time).
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE subnets (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    cidr        TEXT NOT NULL,
    gateway_ip  TEXT NOT NULL,
    bridge      TEXT NOT NULL,
    managed     INTEGER NOT NULL CHECK (managed IN (0, 1))
  );

  CREATE TABLE pools (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    subnet_id          TEXT NOT NULL REFERENCES subnets(id),
    protocol           TEXT NOT NULL CHECK (protocol IN ('HTTP', 'HTTPS', 'TCP')),
    lb_method          TEXT NOT NULL CHECK (lb_method IN ('ROUND_ROBIN', 'LEAST_CONNECTIONS', 'SOURCE_IP')),
    admin_state_up     INTEGER NOT NULL CHECK (admin_state_up IN (0, 1)),
    status             TEXT NOT NULL,
    status_description TEXT,
    operating_status   TEXT NOT NULL DEFAULT 'OFFLINE',
    agent              TEXT NOT NULL DEFAULT 'local'
  );
  CREATE INDEX pools_by_name ON pools(name);
  CREATE INDEX pools_by_subnet ON pools(subnet_id);

  CREATE TABLE members (
    id                 TEXT PRIMARY KEY,
    pool_id            TEXT NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    address            TEXT NOT NULL,
    protocol_port      INTEGER NOT NULL CHECK (protocol_port BETWEEN 1 AND 65535),
    weight             INTEGER NOT NULL CHECK (weight BETWEEN 0 AND 256),
    admin_state_up     INTEGER NOT NULL CHECK (admin_state_up IN (0, 1)),
    status             TEXT NOT NULL,
    status_description TEXT,
    operating_status   TEXT NOT NULL DEFAULT 'OFFLINE',
    health             TEXT NOT NULL DEFAULT '',
    failed_checks      INTEGER NOT NULL DEFAULT 0,
    UNIQUE (pool_id, address, protocol_port)
  );
  CREATE INDEX members_by_pool ON members(pool_id);

  CREATE TABLE monitors (
    id             TEXT PRIMARY KEY,
    type           TEXT NOT NULL CHECK (type IN ('PING', 'TCP', 'HTTP', 'HTTPS')),
    delay          INTEGER NOT NULL CHECK (delay >= 1),
    timeout        INTEGER NOT NULL CHECK (timeout >= 1 AND timeout <= delay),
    max_retries    INTEGER NOT NULL CHECK (max_retries BETWEEN 1 AND 10),
    http_method    TEXT NOT NULL,
    url_path       TEXT NOT NULL,
    expected_codes TEXT NOT NULL,
    admin_state_up INTEGER NOT NULL CHECK (admin_state_up IN (0, 1))
  );

  CREATE TABLE associations (
    pool_id            TEXT NOT NULL REFERENCES pools(id) ON DELETE CASCADE,
    monitor_id         TEXT NOT NULL REFERENCES monitors(id) ON DELETE RESTRICT,
    status             TEXT NOT NULL,
    status_description TEXT,
    PRIMARY KEY (pool_id, monitor_id)
  );
  CREATE INDEX associations_by_monitor ON associations(monitor_id);

  CREATE TABLE vips (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    pool_id            TEXT NOT NULL UNIQUE REFERENCES pools(id),
    subnet_id          TEXT NOT NULL REFERENCES subnets(id),
    address            TEXT NOT NULL UNIQUE,
    protocol           TEXT NOT NULL CHECK (protocol IN ('HTTP', 'HTTPS', 'TCP')),
    protocol_port      INTEGER NOT NULL CHECK (protocol_port BETWEEN 1 AND 65535),
    connection_limit   INTEGER NOT NULL CHECK (connection_limit = -1 OR connection_limit >= 1),
    persistence_type   TEXT CHECK (persistence_type IN ('SOURCE_IP', 'HTTP_COOKIE', 'APP_COOKIE')),
    cookie_name        TEXT,
    admin_state_up     INTEGER NOT NULL CHECK (admin_state_up IN (0, 1)),
    status             TEXT NOT NULL,
    status_description TEXT
  );
  CREATE INDEX vips_by_name ON vips(name);
  CREATE INDEX vips_by_subnet ON vips(subnet_id);

  -- Counters that survive HAProxy reloads and restarts: reported = base + raw, where raw
  -- is what the running HAProxy says; when raw goes backwards, the last raw joins base.
  CREATE TABLE pool_stats (
    pool_id            TEXT PRIMARY KEY REFERENCES pools(id) ON DELETE CASCADE,
    base_bytes_in      INTEGER NOT NULL DEFAULT 0,
    base_bytes_out     INTEGER NOT NULL DEFAULT 0,
    base_connections   INTEGER NOT NULL DEFAULT 0,
    raw_bytes_in       INTEGER NOT NULL DEFAULT 0,
    raw_bytes_out      INTEGER NOT NULL DEFAULT 0,
    raw_connections    INTEGER NOT NULL DEFAULT 0,
    active_connections INTEGER NOT NULL DEFAULT 0
  );
  `,
  `
  -- Lab backends (SPEC §7): throw-away hosts on a lab subnet, started by lbaas lab up.
  CREATE TABLE lab_backends (
    name        TEXT PRIMARY KEY,
    subnet_id   TEXT NOT NULL REFERENCES subnets(id),
    position    INTEGER NOT NULL,
    address     TEXT NOT NULL,
    port        INTEGER NOT NULL,
    tls         INTEGER NOT NULL CHECK (tls IN (0, 1)),
    UNIQUE (subnet_id, position)
  );
  `,
  `
  -- serve-worker (SPEC §5): the one Libra device of this host, as the last accepted UPDATE
  -- left it, and its METRICS accounting per protocol (bytes_out of HAProxy processes that
  -- ended, the last reading of the running one, and what was already reported).
  CREATE TABLE libra_device (
    singleton       INTEGER PRIMARY KEY CHECK (singleton = 1),
    id              TEXT NOT NULL,
    mode            TEXT NOT NULL CHECK (mode IN ('host', 'namespace')),
    subnet_id       TEXT,
    address         TEXT,
    state           TEXT NOT NULL CHECK (state IN ('NONE', 'ACTIVE', 'SUSPENDED', 'DELETED')),
    config          TEXT,
    updated_at      TEXT NOT NULL,
    metrics_end_us  INTEGER
  );
  CREATE TABLE libra_metrics (
    protocol  TEXT PRIMARY KEY CHECK (protocol IN ('http', 'tcp')),
    base      INTEGER NOT NULL DEFAULT 0,
    last_raw  INTEGER NOT NULL DEFAULT 0,
    reported  INTEGER NOT NULL DEFAULT 0
  );

  -- Controller side (SPEC §6): agents seen through DISCOVER, and pools to remove from an
  -- agent that was unreachable when the pool moved away from it.
  CREATE TABLE agents (
    name       TEXT PRIMARY KEY,
    version    TEXT,
    last_seen  TEXT,
    info       TEXT
  );
  CREATE TABLE agent_pending_undeploys (
    agent    TEXT NOT NULL,
    pool_id  TEXT NOT NULL,
    PRIMARY KEY (agent, pool_id)
  );
  `,
  `
  -- Observability (SPEC §10): the audit trail of state-changing commands and agent jobs.
  CREATE TABLE events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    time       TEXT NOT NULL,
    user       TEXT NOT NULL,
    source     TEXT NOT NULL CHECK (source IN ('cli', 'worker')),
    command    TEXT NOT NULL,
    argv       TEXT NOT NULL,
    objects    TEXT NOT NULL,
    pool_id    TEXT,
    pool_name  TEXT,
    result     TEXT NOT NULL CHECK (result IN ('ok', 'error')),
    exit_code  INTEGER NOT NULL,
    error      TEXT
  );
  CREATE INDEX events_time ON events (time);
  CREATE INDEX events_pool ON events (pool_id);
  `,
  `
  -- Controller side (SPEC §4.5, §6): the configuration hash an agent answered after its last
  -- successful DEPLOY of a pool; sync compares it with the agent's DISCOVER to find drift.
  CREATE TABLE agent_deployed_configs (
    pool_id      TEXT PRIMARY KEY,
    agent        TEXT NOT NULL,
    config_hash  TEXT
  );
  `,
  `
  -- TLS termination (SPEC §9): certificates with their key (never printed), and the VIP
  -- fields of TERMINATED_HTTPS. The VIP keeps its pool's protocol in protocol (the
  -- column's CHECK predates TERMINATED_HTTPS; rebuilding vips would break tables that refer
  -- to it) and says it terminates TLS in tls_terminated.
  CREATE TABLE certificates (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL UNIQUE,
    subject             TEXT NOT NULL,
    sans                TEXT NOT NULL,
    issuer              TEXT NOT NULL,
    not_before          TEXT NOT NULL,
    not_after           TEXT NOT NULL,
    fingerprint_sha256  TEXT NOT NULL,
    key_type            TEXT NOT NULL,
    cert_pem            TEXT NOT NULL,
    chain_pem           TEXT NOT NULL,
    key_pem             TEXT NOT NULL
  );
  ALTER TABLE vips ADD COLUMN tls_terminated INTEGER NOT NULL DEFAULT 0 CHECK (tls_terminated IN (0, 1));
  ALTER TABLE vips ADD COLUMN default_cert_id TEXT REFERENCES certificates(id);
  ALTER TABLE vips ADD COLUMN redirect_http INTEGER NOT NULL DEFAULT 0 CHECK (redirect_http IN (0, 1));
  CREATE TABLE vip_sni_certs (
    vip_id    TEXT NOT NULL REFERENCES vips(id) ON DELETE CASCADE,
    cert_id   TEXT NOT NULL REFERENCES certificates(id),
    position  INTEGER NOT NULL,
    PRIMARY KEY (vip_id, cert_id)
  );
  CREATE INDEX vip_sni_certs_by_cert ON vip_sni_certs(cert_id);
  `,
  // Deterministic rendering (SPEC §4.5): the open-file hard limit that shapes HAProxy's
  // global maxconn and the connection_limit bound, recorded once (first use or
  // `doctor --record-limits`) so the caller's own rlimit never changes the rendered bytes.
  // open_files_hard NULL means unlimited.
  `
  CREATE TABLE host_limits (
    singleton        INTEGER PRIMARY KEY CHECK (singleton = 1),
    open_files_hard  INTEGER CHECK (open_files_hard IS NULL OR open_files_hard > 0),
    recorded_at      TEXT NOT NULL
  );
  `,
  `
  -- Declarative provisioning (SPEC §8): monitors may have a name (unique when set), and the
  -- objects an apply file owns carry its stack label (NULL: made by hand). Members and
  -- associations belong to their pool's stack.
  ALTER TABLE monitors ADD COLUMN name TEXT;
  CREATE UNIQUE INDEX monitors_by_name ON monitors(name) WHERE name IS NOT NULL;
  ALTER TABLE subnets ADD COLUMN stack TEXT;
  ALTER TABLE pools ADD COLUMN stack TEXT;
  ALTER TABLE monitors ADD COLUMN stack TEXT;
  ALTER TABLE vips ADD COLUMN stack TEXT;
  `,
  // HA (SPEC §11). Controller: an active/standby pool's router id and its two peers
  // (agent, own address on the VIP's subnet). Agent: its own part in an HA pool it hosts.
  `
  CREATE TABLE ha_pools (
    pool_id            TEXT PRIMARY KEY REFERENCES pools(id) ON DELETE CASCADE,
    subnet_id          TEXT NOT NULL,
    virtual_router_id  INTEGER NOT NULL CHECK (virtual_router_id BETWEEN 1 AND 255),
    UNIQUE (subnet_id, virtual_router_id)
  );
  CREATE TABLE ha_peers (
    pool_id  TEXT NOT NULL REFERENCES ha_pools(pool_id) ON DELETE CASCADE,
    role     TEXT NOT NULL CHECK (role IN ('a', 'b')),
    agent    TEXT NOT NULL,
    address  TEXT NOT NULL,
    PRIMARY KEY (pool_id, role)
  );
  CREATE TABLE ha_local_peers (
    pool_id            TEXT PRIMARY KEY,
    role               TEXT NOT NULL CHECK (role IN ('a', 'b')),
    virtual_router_id  INTEGER NOT NULL CHECK (virtual_router_id BETWEEN 1 AND 255),
    address_a          TEXT NOT NULL,
    address_b          TEXT NOT NULL
  );
  `,
  // Access log copy to a syslog server (SPEC §10): null, or IPv4:PORT / [IPv6]:PORT.
  `
  ALTER TABLE vips ADD COLUMN syslog TEXT;
  `,
  // Apply files own certificates too (SPEC §8.1 `certs:`): --prune deletes only its stack's.
  `
  ALTER TABLE certificates ADD COLUMN stack TEXT;
  `,
  // An HA pool runs on two agents, each with its own configuration: one hash per pool and agent.
  `
  CREATE TABLE agent_deployed_configs_by_agent (
    pool_id      TEXT NOT NULL,
    agent        TEXT NOT NULL,
    config_hash  TEXT,
    PRIMARY KEY (pool_id, agent)
  );
  INSERT INTO agent_deployed_configs_by_agent (pool_id, agent, config_hash) SELECT pool_id, agent, config_hash FROM agent_deployed_configs;
  DROP TABLE agent_deployed_configs;
  ALTER TABLE agent_deployed_configs_by_agent RENAME TO agent_deployed_configs;
  `,
]

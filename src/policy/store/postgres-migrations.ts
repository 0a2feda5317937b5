/**
 * Schema of the PostgreSQL settings store (DATABASE_URL), as ordered migrations: the same tables as
 * the embedded store (sqlite-migrations.ts), plus the change notifications that keep the nodes
 * sharing one database in step. At start the migrations the database lacks are applied in one
 * transaction that first takes an advisory lock, so two nodes starting at once apply each
 * migration once; each is recorded in `schema_migrations`. Never edit a released migration: append
 * a new one.
 *
 * Entities keep their keys and references in columns (primary keys, foreign keys, cascades) and
 * the rest of the entity as a JSON document in `data` (type json: kept as written). `seq` keeps
 * the insertion order that SQLite's rowid gives the embedded store.
 */
import type { Migration } from './sqlite-migrations.js';

/** NOTIFY channel of settings changes; the payload is the organisation's id (docs/policy.md). */
export const SETTINGS_CHANGED_CHANNEL = 'settings_changed';

const entityTable = (name: string, extra = '', refs = ''): string => `
CREATE TABLE ${name} (
  seq BIGSERIAL NOT NULL,
  org_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  id TEXT NOT NULL,${extra}
  data JSON NOT NULL,
  PRIMARY KEY (org_id, id)${refs}
);`;

const locationRef = ',\n  FOREIGN KEY (org_id, location_id) REFERENCES locations(org_id, id)';

/** The tables a policy snapshot is made of: a write to any of them is a settings change. */
const SNAPSHOT_TABLES = ['organisations', 'providers', 'terms_acceptances', 'locations', 'users', 'virtual_lines', 'features', 'trunks'] as const;

export const POSTGRES_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'settings model',
    sql: `
CREATE TABLE organisations (
  seq BIGSERIAL NOT NULL,
  id TEXT PRIMARY KEY,
  data JSON NOT NULL
);
${entityTable('providers')}
${entityTable('locations')}
${entityTable('users', '\n  location_id TEXT NOT NULL,', locationRef)}
${entityTable('virtual_lines', '\n  location_id TEXT NOT NULL,', locationRef)}
${entityTable('features', '\n  kind TEXT NOT NULL,\n  location_id TEXT NOT NULL,', locationRef)}
${entityTable('trunks')}
CREATE TABLE terms_acceptances (
  seq BIGSERIAL NOT NULL,
  org_id TEXT NOT NULL,
  provider_id TEXT NOT NULL,
  data JSON NOT NULL,
  PRIMARY KEY (org_id, provider_id),
  FOREIGN KEY (org_id, provider_id) REFERENCES providers(org_id, id) ON DELETE CASCADE
);
CREATE TABLE provisioning_records (
  seq BIGSERIAL NOT NULL,
  org_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  provider_id TEXT NOT NULL,
  subject_kind TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  data JSON NOT NULL,
  PRIMARY KEY (org_id, provider_id, subject_kind, subject_id)
);
CREATE INDEX users_by_location ON users(org_id, location_id);
CREATE INDEX virtual_lines_by_location ON virtual_lines(org_id, location_id);
CREATE INDEX features_by_kind ON features(org_id, kind);
`,
  },
  {
    version: 2,
    name: 'provisioning file last applied',
    // one row: the SHA-256 of the provisioning file's text last applied, where from, when, and what it did
    sql: `
CREATE TABLE provisioning_file_applied (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  data JSON NOT NULL
);
`,
  },
  {
    version: 3,
    name: 'settings change notifications',
    // Every write to a snapshot table, by any node or by hand, notifies the channel with the
    // organisation's id when its transaction commits (PostgreSQL folds identical notifications of
    // one transaction into one: deleting an organisation notifies once). Provisioning records are
    // not part of a snapshot and do not notify.
    sql: `
CREATE FUNCTION notify_settings_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  doc JSONB;
BEGIN
  IF TG_OP = 'DELETE' THEN doc := to_jsonb(OLD); ELSE doc := to_jsonb(NEW); END IF;
  PERFORM pg_notify('${SETTINGS_CHANGED_CHANNEL}', COALESCE(doc->>'org_id', doc->>'id'));
  RETURN NULL;
END;
$$;
${SNAPSHOT_TABLES.map((t) => `CREATE TRIGGER ${t}_changed AFTER INSERT OR UPDATE OR DELETE ON ${t} FOR EACH ROW EXECUTE FUNCTION notify_settings_changed();`).join('\n')}
`,
  },
];

/**
 * Schema of the embedded settings store, as ordered migrations. Each runs once and is recorded in
 * `schema_migrations`; opening a database applies the ones it lacks, in one transaction. Never edit
 * a released migration: append a new one.
 *
 * Entities keep their keys and references in columns (primary keys, foreign keys, cascades) and
 * the rest of the entity as a JSON document in `data`.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

const entityTable = (name: string, extra = '', refs = ''): string => `
CREATE TABLE ${name} (
  org_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  id TEXT NOT NULL,${extra}
  data TEXT NOT NULL,
  PRIMARY KEY (org_id, id)${refs}
);`;

const locationRef = ',\n  FOREIGN KEY (org_id, location_id) REFERENCES locations(org_id, id)';

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'settings model',
    sql: `
CREATE TABLE organisations (
  id TEXT PRIMARY KEY,
  data TEXT NOT NULL
);
${entityTable('providers')}
${entityTable('locations')}
${entityTable('users', '\n  location_id TEXT NOT NULL,', locationRef)}
${entityTable('virtual_lines', '\n  location_id TEXT NOT NULL,', locationRef)}
${entityTable('features', '\n  kind TEXT NOT NULL,\n  location_id TEXT NOT NULL,', locationRef)}
${entityTable('trunks')}
CREATE TABLE terms_acceptances (
  org_id TEXT NOT NULL,
  provider_id TEXT NOT NULL,
  data TEXT NOT NULL,
  PRIMARY KEY (org_id, provider_id),
  FOREIGN KEY (org_id, provider_id) REFERENCES providers(org_id, id) ON DELETE CASCADE
);
CREATE TABLE provisioning_records (
  org_id TEXT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
  provider_id TEXT NOT NULL,
  subject_kind TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  data TEXT NOT NULL,
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
  data TEXT NOT NULL
);
`,
  },
];

import type Database from 'better-sqlite3';

export type Prepare = (sql: string) => Database.Statement;

/** Prepared statements cached by SQL text: preparing is far costlier than running. */
export function statementCache(db: Database.Database): Prepare {
  const statements = new Map<string, Database.Statement>();
  return (sql) => {
    let st = statements.get(sql);
    if (!st) {
      st = db.prepare(sql);
      statements.set(sql, st);
    }
    return st;
  };
}

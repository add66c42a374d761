// drizzle-kit configuration: `npm run db:generate` writes a migration for every schema change.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './db/schema.ts',
  out: './db/migrations',
});

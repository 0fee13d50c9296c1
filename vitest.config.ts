import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // DuckDB and PostgreSQL work is real I/O; give slow machines room without asserting speed.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Test files share one PostgreSQL server in CI; each uses its own schema, so files may run in parallel.
    pool: 'forks',
  },
});

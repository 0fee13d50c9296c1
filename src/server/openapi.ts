import swagger from '@fastify/swagger';
import type { FastifyInstance } from 'fastify';

/**
 * The API's OpenAPI 3 document, built from the routes' own schemas (so it cannot drift from
 * what is validated), served at GET /api/openapi.json. Register before the routes.
 */
export async function installOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'gamepipe API',
        version: '0.1.0',
        description:
          'Read endpoints need a read or admin token (Authorization: Bearer TOKEN, or the session cookie from POST /api/session); ' +
          'actions need an admin token. Table endpoints answer CSV with format=csv.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, session: { type: 'apiKey', in: 'cookie', name: 'gamepipe_session' } } },
      security: [{ bearer: [] }, { session: [] }],
    },
  });
  app.get('/api/openapi.json', { config: { access: 'public' }, schema: { hide: true, querystring: { type: 'object', additionalProperties: false, properties: {} } } }, async () => app.swagger());
}

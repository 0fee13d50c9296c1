import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

/** The dashboard's static files (web/ in the package); they hold no data, so they are public. */
export const WEB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../web');
/** ECharts' prebuilt bundle, served from the installed package: nothing is loaded from elsewhere. */
const ECHARTS = path.join(path.dirname(createRequire(import.meta.url).resolve('echarts/package.json')), 'dist');

export const webAppRoutes: FastifyPluginAsync = async (app) => {
  await app.register(fastifyStatic, { root: WEB_ROOT, prefix: '/', index: 'index.html', wildcard: false, schemaHide: true });
  await app.register(fastifyStatic, { root: ECHARTS, prefix: '/vendor/echarts/', decorateReply: false, allowedPath: (p) => p === '/echarts.min.js', schemaHide: true });
};

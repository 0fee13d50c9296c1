import type { FastifyReply } from 'fastify';
import { dateRange } from '../core/dates.js';

/** JSON Schemas shared by the routes (validated by Fastify, published in the OpenAPI document). */

export const MAX_RANGE_DAYS = 400;

export const date = { type: 'string', format: 'date', maxLength: 10, description: 'a calendar day, YYYY-MM-DD (UTC)' } as const;
export const format = { type: 'string', enum: ['json', 'csv'], description: 'csv: the page\'s main table as CSV' } as const;

export const gameParams = {
  type: 'object',
  additionalProperties: false,
  required: ['gameId'],
  properties: { gameId: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$', description: 'a game id' } },
} as const;

export const rangeQuery = {
  type: 'object',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: { from: date, to: date, format },
} as const;

export interface RangeQuery {
  from: string;
  to: string;
  format?: 'json' | 'csv';
}

/** from ≤ to and at most MAX_RANGE_DAYS days; otherwise answers 400 naming the parameter and returns false. */
export function checkRange(reply: FastifyReply, q: { from: string; to: string }): boolean {
  if (q.from > q.to) {
    void reply.code(400).send({ error: 'invalid request', issues: [`querystring/from: ${q.from} is after to ${q.to}; expected from ≤ to`] });
    return false;
  }
  if (dateRange(q.from, q.to).length > MAX_RANGE_DAYS) {
    void reply.code(400).send({ error: 'invalid request', issues: [`querystring/to: the range is longer than ${MAX_RANGE_DAYS} days`] });
    return false;
  }
  return true;
}

/** Answers with an error object the dashboard shows as is (a failed query: no stack trace). */
export const errorReply = {
  type: 'object',
  properties: { error: { type: 'string' }, issues: { type: 'array', items: { type: 'string' } }, expected: { type: 'string' } },
} as const;

/** For routes that take no query parameters: any given one is a 400 naming it. */
export const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;

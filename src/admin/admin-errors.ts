import type { FastifyError, FastifyInstance } from 'fastify';
import { AppError, isAppError } from '../common/errors.js';
import type { Logger } from '../observability/logger.js';

/** The body of every error answer. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

/**
 * The one place errors become HTTP answers: an AppError answers its registry httpStatus with its
 * code; a schema validation failure is ADMIN_VALIDATION_FAILED (400); Fastify's own 4xx (bad JSON,
 * wrong content type, body too large) keep their status under ADMIN_VALIDATION_FAILED; anything
 * else is ADMIN_INTERNAL (500) and is logged.
 */
export function installErrorHandling(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err: FastifyError | AppError | Error, req, reply) => {
    let status: number;
    let body: ErrorBody;
    if (isAppError(err)) {
      status = err.httpStatus ?? 500;
      body = { error: { code: err.code, message: err.message } };
      if (status >= 500) logger.error({ err, url: req.url }, 'admin request failed');
    } else if ('validation' in err && err.validation) {
      status = 400;
      body = { error: { code: 'ADMIN_VALIDATION_FAILED', message: err.message } };
    } else if ('statusCode' in err && typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      body = { error: { code: 'ADMIN_VALIDATION_FAILED', message: err.message } };
    } else {
      status = 500;
      body = { error: { code: 'ADMIN_INTERNAL', message: new AppError('ADMIN_INTERNAL').message } };
      logger.error({ err, url: req.url }, 'admin request failed');
    }
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new AppError('ADMIN_ROUTE_NOT_FOUND', `${req.method} ${req.url.split('?')[0]}`);
    return reply.code(404).send({ error: { code: e.code, message: e.message } });
  });
}

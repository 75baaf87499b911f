import { Router } from 'express';
import { docsView } from './docs';
import { openApiDocument } from './openapi';

/**
 * GET /api: the API's description for people, from the same document as /api/v1/openapi.json.
 * (Not /api/docs: web.config hides every URL with a `docs` segment from IIS.)
 */
export function apiDocsRoutes(): Router {
  const router = Router();
  const view = docsView(openApiDocument());
  router.get('/api', (_req, res) => {
    res.render('api/docs', { title: 'The Deskside API', doc: view });
  });
  return router;
}

import { Router } from 'express';
import { docsView } from './docs';
import { openApiDocument } from './openapi';

/** GET /api/docs: the API's description for people, from the same document as /api/v1/openapi.json. */
export function apiDocsRoutes(): Router {
  const router = Router();
  const view = docsView(openApiDocument());
  router.get('/api/docs', (_req, res) => {
    res.render('api/docs', { title: 'The Deskside API', doc: view });
  });
  return router;
}

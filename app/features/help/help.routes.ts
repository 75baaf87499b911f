import { Router } from 'express';

/** GET /help: how Deskside works and how to get your browser to sign you in; for everyone, guests included. */
export function helpRoutes(): Router {
  const router = Router();
  router.get('/help', (_req, res) => {
    res.render('help/index', { title: 'Help' });
  });
  return router;
}

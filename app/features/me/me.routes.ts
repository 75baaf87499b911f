import { Router } from 'express';
import { viewerOf } from '../../web/viewer';
import { describeViewer } from './me.service';

/** GET /me: who you are, how you were recognised, your groups and where each role came from. */
export function meRoutes(): Router {
  const router = Router();
  router.get('/me', (req, res) => {
    const v = viewerOf(res);
    // Who you are depends on your cookie: never stored, even for a guest.
    res.setHeader('Cache-Control', 'no-store');
    const json = describeViewer(v);
    res.format({
      html: () => res.render('me/index', { title: v.anonymous ? 'You are browsing as a guest' : 'Your account' }),
      json: () => res.json(json),
      default: () => res.render('me/index', { title: 'Your account' }),
    });
  });
  return router;
}

import { Router } from 'express';
import type { Policy } from '../../access/policy';
import type { Config } from '../../config/schema';
import type { DirectoryCache } from '../../directory/cache';
import { requireCan } from '../../web/guards';
import { directoryOverview, inspectLogin, parseLoginInput, type DirectoryReport } from './directory.service';

/**
 * GET /admin/directory            the directory connection's health and settings
 * GET /admin/directory?login=…    …and exactly what Deskside sees for that login
 *
 * A GET form: looking someone up changes nothing but the cache entry it refreshes.
 */
export function adminDirectoryRoutes(deps: { config: Config; policy: Policy; directory: DirectoryCache }): Router {
  const { config, policy, directory } = deps;
  const router = Router();

  router.get('/admin/directory', requireCan(policy, 'admin.view'), async (req, res) => {
    const raw = req.query.login;
    const asked = raw !== undefined;
    const typed = typeof raw === 'string' ? raw : '';
    let error: string | undefined;
    let report: DirectoryReport | undefined;
    if (asked) {
      const parsed = parseLoginInput(raw);
      if (parsed.ok) report = await inspectLogin(directory, config, parsed.login);
      else error = parsed.error;
    }
    res.setHeader('Cache-Control', 'no-store');
    res.status(error ? 400 : 200).render('admin/directory', {
      title: report ? `Directory: ${report.login.login}` : 'Directory',
      overview: directoryOverview(directory, config),
      form: { login: typed.slice(0, 400) },
      errors: error ? { login: error } : {},
      report,
    });
  });

  return router;
}

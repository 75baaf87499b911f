import { Router, type Response } from 'express';
import type { Policy } from '../../access/policy';
import type { Database } from '../../db/database';
import { formOf } from '../../web/form';
import { requireCan } from '../../web/guards';
import { notFound } from '../../web/http-error';
import { viewerOf } from '../../web/viewer';
import type { FieldErrors } from '../shared/form-values';
import { countTokens, listAllTokens } from './tokens.queries';
import { createToken, DEFAULT_EXPIRY_DAYS, EXPIRY_CHOICES, readTokenForm, revoke, ROLE_LABELS, SCOPE_LABELS, tokensOf, tokenState, TOKEN_NAME_MAX, type TokenForm } from './tokens.service';

/**
 * GET  /me/tokens                your API tokens, and the form for a new one
 * POST /me/tokens                make one; the answer shows it once (never stored, never redirected to)
 * POST /me/tokens/:id/revoke     revoke one of yours
 * GET  /admin/tokens             admins: everyone's tokens
 * POST /admin/tokens/:id/revoke  admins: revoke anyone's
 */
export function tokenRoutes(deps: { database: Database; policy: Policy }): Router {
  const { database, policy } = deps;
  const router = Router();
  const own = requireCan(policy, 'api-tokens.own');
  const manage = requireCan(policy, 'api-tokens.manage');
  const PAGE = 100;

  const idOf = (raw: unknown): number => {
    const s = String(raw);
    if (!/^\d{1,9}$/.test(s)) throw notFound('There is no such token.');
    return Number(s);
  };

  async function renderMine(res: Response, status: number, extra: { form?: TokenForm; errors?: FieldErrors; created?: { token: string; name: string }; revoked?: boolean } = {}) {
    const v = viewerOf(res);
    // The page may hold a token that is shown once: never kept by a cache or the back button's store.
    res.setHeader('Cache-Control', 'no-store');
    res.status(status).render('me/tokens', {
      title: status >= 400 ? 'Error: API tokens' : 'API tokens',
      tokens: await tokensOf(database, v.personId!),
      form: extra.form ?? { name: '', scope: 'read', role: 'requester', days: String(DEFAULT_EXPIRY_DAYS) },
      errors: extra.errors ?? {},
      created: extra.created,
      revoked: extra.revoked ?? false,
      canAgentTokens: v.roles.has('agent'),
      expiryChoices: EXPIRY_CHOICES,
      scopeLabels: SCOPE_LABELS,
      roleLabels: ROLE_LABELS,
      tokenState,
      nameMax: TOKEN_NAME_MAX,
    });
  }

  router.get('/me/tokens', own, async (req, res) => {
    await renderMine(res, 200, { revoked: req.query.revoked === '1' });
  });

  router.post('/me/tokens', own, async (req, res) => {
    const v = viewerOf(res);
    const form = readTokenForm(formOf(req));
    const result = await createToken(database, v.personId!, v.roles, form);
    if (result.kind === 'invalid') return renderMine(res, 400, { form, errors: result.errors });
    await renderMine(res, 201, { created: { token: result.token, name: result.row.name } });
  });

  router.post('/me/tokens/:id/revoke', own, async (req, res) => {
    const v = viewerOf(res);
    await revoke(database, idOf(req.params.id), v.personId!, v.personId!);
    res.redirect(303, '/me/tokens?revoked=1');
  });

  router.get('/admin/tokens', manage, async (req, res) => {
    const raw = typeof req.query.page === 'string' ? req.query.page : '1';
    const page = /^\d{1,6}$/.test(raw) ? Math.max(1, Number(raw)) : 1;
    const [tokens, total] = await Promise.all([listAllTokens(database.db, database.dialect, PAGE, (page - 1) * PAGE), countTokens(database.db)]);
    res.setHeader('Cache-Control', 'no-store');
    res.render('admin/tokens', {
      title: 'API tokens',
      tokens,
      total,
      page,
      pages: Math.max(1, Math.ceil(total / PAGE)),
      tokenState,
      scopeLabels: SCOPE_LABELS,
      revoked: req.query.revoked === '1',
    });
  });

  router.post('/admin/tokens/:id/revoke', manage, async (req, res) => {
    await revoke(database, idOf(req.params.id), viewerOf(res).personId!);
    res.redirect(303, '/admin/tokens?revoked=1');
  });

  return router;
}

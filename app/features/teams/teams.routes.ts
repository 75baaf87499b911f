import { Router, type Response } from 'express';
import type { Policy } from '../../access/policy';
import type { Database } from '../../db/database';
import type { DirectoryCache } from '../../directory/cache';
import { formOf } from '../../web/form';
import { requireCan } from '../../web/guards';
import { HttpError, notFound } from '../../web/http-error';
import type { FieldErrors } from '../shared/form-values';
import { getTeam, listTeamMembers, listTeams, openTicketsByTeam } from './teams.queries';
import { addTeam, changeTeam, readTeamForm, TEAM_LIMITS, teamFormOf, teamMembership, type TeamForm } from './teams.service';

/**
 * GET  /admin/teams        every team, with open tickets; the form to add one
 * POST /admin/teams        add a team, then 303 to it
 * GET  /admin/teams/:id    one team: its settings and who is in it
 * POST /admin/teams/:id    change it (409 when someone else saved it first)
 */
export function teamAdminRoutes(deps: { database: Database; policy: Policy; directory: DirectoryCache }): Router {
  const { database, policy, directory } = deps;
  const router = Router();
  const admins = requireCan(policy, 'admin.view');
  const blank: TeamForm = { name: '', description: '', directoryGroup: '', members: '', active: true, version: '' };

  async function renderList(res: Response, status: number, extra: { form?: TeamForm; errors?: FieldErrors } = {}) {
    const [teams, open] = await Promise.all([listTeams(database.db, { activeOnly: false }), openTicketsByTeam(database.db)]);
    res.status(status).render('admin/teams', {
      title: status >= 400 ? 'Error: Teams' : 'Teams',
      teams,
      open,
      form: extra.form ?? blank,
      errors: extra.errors ?? {},
      directoryOn: directory.enabled,
      limits: TEAM_LIMITS,
    });
  }

  async function renderTeam(res: Response, id: number, status: number, extra: { form?: TeamForm; errors?: FieldErrors; notes?: string[]; saved?: boolean } = {}) {
    const team = await getTeam(database.db, id);
    if (!team) throw notFound('There is no such team.');
    const [listed, membership] = await Promise.all([listTeamMembers(database.db, [id]), teamMembership(database, directory, team)]);
    res.status(status).render('admin/team', {
      title: `${status >= 400 ? 'Error: ' : ''}${team.name} (team)`,
      team,
      form: extra.form ?? teamFormOf(team, listed),
      errors: extra.errors ?? {},
      notes: extra.notes ?? [],
      saved: extra.saved ?? false,
      membership,
      directoryOn: directory.enabled,
      limits: TEAM_LIMITS,
    });
  }

  const teamId = (raw: unknown): number => {
    if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) throw notFound('There is no such team.');
    return Number(raw);
  };

  router.get('/admin/teams', admins, async (_req, res) => {
    await renderList(res, 200);
  });

  router.post('/admin/teams', admins, async (req, res) => {
    const form = readTeamForm(formOf(req));
    const result = await addTeam(database, directory, form);
    if (result.kind === 'invalid') return renderList(res, 400, { form, errors: result.errors });
    if (result.kind !== 'ok') throw new HttpError(500, `unexpected ${result.kind} adding a team`);
    res.redirect(303, `/admin/teams/${result.id}?saved=1${result.notes.length ? '&unchecked=1' : ''}`);
  });

  router.get('/admin/teams/:id', admins, async (req, res) => {
    const notes = req.query.unchecked === '1' ? ['The directory could not be asked, so the group was saved without checking that it exists.'] : [];
    await renderTeam(res, teamId(req.params.id), 200, { saved: req.query.saved === '1', notes });
  });

  router.post('/admin/teams/:id', admins, async (req, res) => {
    const id = teamId(req.params.id);
    const form = readTeamForm(formOf(req));
    const result = await changeTeam(database, directory, id, form);
    if (result.kind === 'not-found') throw notFound('There is no such team.');
    if (result.kind === 'invalid') return renderTeam(res, id, 400, { form, errors: result.errors });
    if (result.kind === 'conflict') {
      // The team as it is now, with a message: re-applying the form would undo their change.
      return renderTeam(res, id, 409, { errors: { name: 'Someone else changed this team after you opened it. This is the team as it is now; make your change again.' } });
    }
    res.redirect(303, `/admin/teams/${id}?saved=1${result.notes.length ? '&unchecked=1' : ''}`);
  });

  return router;
}

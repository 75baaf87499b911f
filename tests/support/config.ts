import { ConfigError, parseConfig } from '../../app/config/schema';

/** Every problem parseConfig reports for this environment (none when it is valid). */
export function configProblems(env: Record<string, string>, platform: NodeJS.Platform = 'linux'): string[] {
  try {
    parseConfig(env, platform);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

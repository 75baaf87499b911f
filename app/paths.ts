import path from 'node:path';

/**
 * The app folder: the one that holds package.json, views/, public/ and App_Data/. This
 * file compiles to dist/paths.js and runs from app/paths.ts under jest; both are one
 * level below it.
 */
export const APP_ROOT = path.resolve(__dirname, '..');

// Stops a command on a Node.js older than package.json "engines" asks for, with one line naming the version needed.
// Plain JavaScript with no imports beyond node:, so it runs first on any Node, before tsx or our TypeScript can fail.
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const packageJson = new URL('../package.json', import.meta.url);

/** The `engines.node` range of package.json, e.g. ">=22.12.0". */
export function requiredNodeRange() {
  const pkg = JSON.parse(readFileSync(packageJson, 'utf8'));
  const range = pkg.engines?.node;
  if (typeof range !== 'string') throw new Error(`package.json has no engines.node range (${fileURLToPath(packageJson)})`);
  return range;
}

/** "22.12.0" -> [22, 12, 0]; missing parts count as 0. */
function parts(version) {
  const [a = 0, b = 0, c = 0] = version.replace(/^v/, '').split('.').map((p) => Number.parseInt(p, 10) || 0);
  return [a, b, c];
}

/**
 * Why this Node.js cannot run statusdesk, as one line, or null when it can.
 * `range` is package.json's engines.node; only the form ">=X.Y.Z" is understood (what we ship), and any other
 * form throws, so a changed engines field cannot silently turn the check off.
 * @param {string} [version] the running version, "20.20.2" (default: process.versions.node)
 * @param {string} [range] the required range (default: package.json engines.node)
 * @returns {string | null}
 */
export function nodeVersionProblem(version = process.versions.node, range = requiredNodeRange()) {
  const match = /^\s*>=\s*v?(\d+(?:\.\d+){0,2})\s*$/.exec(range);
  if (!match) throw new Error(`engines.node "${range}" is not of the form ">=X.Y.Z" that bin/check-node.mjs understands`);
  const [need, have] = [parts(match[1]), parts(version)];
  for (let i = 0; i < 3; i++) {
    if (have[i] > need[i]) return null;
    if (have[i] < need[i]) {
      return `statusdesk needs Node.js ${range.trim()} (package.json engines); this is Node.js ${version} (${process.execPath}). Install Node.js 24 LTS and run the command again.`;
    }
  }
  return null;
}

/** Exits with status 1 and the one line on stderr when this Node.js is too old; returns otherwise. For CLIs such as statusctl. */
export function exitOnOldNode() {
  const problem = nodeVersionProblem();
  if (problem) {
    process.stderr.write(`${problem}\n`);
    process.exit(1);
  }
}

// Run directly (`node bin/check-node.mjs && tsx bin/start.ts`): check and exit.
const invoked = process.argv[1] ? pathToFileURL(realpathSync(process.argv[1])).href : '';
if (invoked === import.meta.url) exitOnOldNode();

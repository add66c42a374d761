// The layering itself: no import cycles, routes import no routes, api/http/ below the routes and the services, one clock, site pages import no services, the renderer never writes, no grab-bag modules,
// and one door (SPEC "One door"): the console imports no route, services import no adapter, the outbox calls no use case.
// The role matrix (every use case with every role) runs the use cases themselves: test/role-matrix.test.ts.
//
// The import graph is read with the TypeScript compiler API (already installed for tsc) rather than madge:
// no new dependency, Astro frontmatter parses the same way, `import type` is told apart from a value import,
// and every finding names its file and line.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { useCaseRoles } from '../api/services/use-cases.ts';

const root = resolve(import.meta.dirname, '..');
const scanned = ['api', 'db', 'site', 'bin'];

interface Import {
  /** Repository-relative path of the imported module. */
  target: string;
  line: number;
  /** `import type`, or every name imported is a type: erased at run time. */
  typeOnly: boolean;
}

interface Module {
  path: string;
  source: ts.SourceFile;
  /** Added to a node's line in `source`: the frontmatter of an .astro file starts below its fence. */
  lineOffset: number;
  imports: Import[];
}

function files(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name === 'migrations' || name.startsWith('.')) return [];
    if (statSync(join(root, path)).isDirectory()) return files(path);
    return /\.(ts|mts|astro)$/.test(name) ? [path] : [];
  });
}

/** An .astro file's script is its frontmatter, between the first two `---` fences. */
function script(path: string): { text: string; lineOffset: number } {
  const text = readFileSync(join(root, path), 'utf8');
  if (!path.endsWith('.astro')) return { text, lineOffset: 0 };
  const match = /^---\r?\n([\s\S]*?)\r?\n---/.exec(text);
  return { text: match?.[1] ?? '', lineOffset: 1 };
}

function resolveImport(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const base = join(dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    try {
      if (statSync(join(root, candidate)).isFile()) return candidate;
    } catch {}
  }
  return null;
}

function load(path: string): Module {
  const { text, lineOffset } = script(path);
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const imports: Import[] = [];
  const add = (node: ts.Node, specifier: ts.Expression | undefined, typeOnly: boolean) => {
    if (!specifier || !ts.isStringLiteralLike(specifier)) return;
    const target = resolveImport(path, specifier.text);
    if (target) imports.push({ target, line: lineOf(source, node) + lineOffset, typeOnly });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const allTypes = !!clause && !clause.name && !!named && named.length > 0 && named.every((e) => e.isTypeOnly);
      add(node, node.moduleSpecifier, clause?.phaseModifier === ts.SyntaxKind.TypeKeyword || allTypes);
    } else if (ts.isExportDeclaration(node)) {
      add(node, node.moduleSpecifier, node.isTypeOnly);
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      add(node, node.argument.literal, true);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      add(node, node.arguments[0], false);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { path, source, lineOffset, imports };
}

const lineOf = (source: ts.SourceFile, node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;

const modules = new Map(scanned.flatMap(files).map((path) => [path, load(path)] as const));
const where = (m: Module, line: number) => `${m.path}:${line}`;

/** Every node of a module, depth first. */
function* nodes(node: ts.Node): Generator<ts.Node> {
  yield node;
  for (const child of node.getChildren()) yield* nodes(child);
}

/** Import cycles as chains "a.ts:3 → b.ts:7 → a.ts", one per strongly connected group (Tarjan). */
function cycles(): string[] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  let next = 0;
  const connect = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const { target: w } of modules.get(v)?.imports ?? []) {
      if (!modules.has(w)) continue;
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      const selfImport = modules.get(v)!.imports.some((i) => i.target === v);
      if (group.length > 1 || selfImport) groups.push(group);
    }
  };
  for (const path of modules.keys()) if (!index.has(path)) connect(path);
  return groups.map((group) => {
    // One concrete loop inside the group, from its first file back to it, naming each import's line.
    const members = new Set(group);
    const start = [...group].sort()[0]!;
    const visited = new Set<string>();
    const walk = (at: string): string[] | null => {
      visited.add(at);
      const m = modules.get(at)!;
      for (const i of m.imports) {
        if (!members.has(i.target)) continue;
        if (i.target === start) return [where(m, i.line)];
        if (visited.has(i.target)) continue;
        const rest = walk(i.target);
        if (rest) return [where(m, i.line), ...rest];
      }
      return null;
    };
    return `${walk(start)!.join(' → ')} → ${start}`;
  });
}

/** A route module defines a resource's HTTP routes: a file in api/routes/ exporting a function named `…Routes`. */
function isRouteModule(m: Module | undefined): boolean {
  if (!m || !m.path.startsWith(join('api', 'routes') + '/')) return false;
  return m.source.statements.some(
    (s) => ts.isFunctionDeclaration(s) && !!s.name && /Routes$/.test(s.name.text) && !!s.modifiers?.some((k) => k.kind === ts.SyntaxKind.ExportKeyword),
  );
}

/** Reads of the wall clock: `Date.now()` and `new Date()` with no argument (`new Date(value)` parses a given time and is fine). */
function wallClockReads(m: Module): string[] {
  const found: string[] = [];
  for (const node of nodes(m.source)) {
    const isDate = (e: ts.Expression) => ts.isIdentifier(e) && e.text === 'Date';
    if (ts.isNewExpression(node) && isDate(node.expression) && (node.arguments?.length ?? 0) === 0) {
      found.push(`${where(m, lineOf(m.source, node) + m.lineOffset)}: new Date() reads the wall clock; take a Clock`);
    }
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && isDate(node.expression.expression) && node.expression.name.text === 'now') {
      found.push(`${where(m, lineOf(m.source, node) + m.lineOffset)}: Date.now() reads the wall clock; take a Clock`);
    }
  }
  return found;
}

const schemaModule = join('db', 'schema.ts');

/**
 * Database writes a module makes itself: Drizzle's insert/update/delete called on a table from db/schema.ts
 * (so `hash.update(…)` is not one), and SQL text that inserts, updates, deletes or replaces.
 */
function databaseWrites(m: Module): string[] {
  const tables = new Set<string>();
  for (const s of m.source.statements) {
    if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier)) continue;
    if (resolveImport(m.path, s.moduleSpecifier.text) !== schemaModule) continue;
    const named = s.importClause?.namedBindings;
    if (named && ts.isNamedImports(named)) for (const e of named.elements) tables.add(e.name.text);
  }
  const found: string[] = [];
  for (const node of nodes(m.source)) {
    const line = () => where(m, lineOf(m.source, node) + m.lineOffset);
    if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && /^(insert|update|delete)$/.test(node.expression.name.text)) {
      const [table] = node.arguments;
      if (table && ts.isIdentifier(table) && tables.has(table.text)) found.push(`${line()}: ${node.expression.name.text}(${table.text})`);
    }
    // SQL is written in capitals here; an interpolated table name reads as "x".
    const text = ts.isTemplateExpression(node)
      ? node.head.text + node.templateSpans.map((span) => ` x ${span.literal.text}`).join('')
      : ts.isNoSubstitutionTemplateLiteral(node) || ts.isStringLiteral(node)
        ? node.text
        : null;
    const sql = text === null ? null : /\b(INSERT(\s+OR\s+[A-Z]+)?\s+INTO|REPLACE\s+INTO|DELETE\s+FROM|UPDATE\s+\S+\s+SET)\b/.exec(text);
    if (sql) found.push(`${line()}: SQL "${sql[0]}"`);
  }
  return found;
}

/** The value imports reachable from `start` (type imports are erased and run nothing), with the chain that reaches each. */
function reachable(start: string, stopAt: (path: string) => boolean = () => false): Map<string, string[]> {
  const chains = new Map<string, string[]>([[start, []]]);
  const queue = [start];
  while (queue.length > 0) {
    const at = queue.shift()!;
    const m = modules.get(at);
    if (!m || stopAt(at)) continue;
    for (const i of m.imports) {
      if (i.typeOnly || chains.has(i.target)) continue;
      chains.set(i.target, [...chains.get(at)!, where(m, i.line)]);
      queue.push(i.target);
    }
  }
  chains.delete(start);
  return chains;
}

const list = (findings: string[]) => `\n  ${findings.join('\n  ')}\n`;

describe('architecture', () => {
  it('reads the modules it checks (so an empty scan cannot pass)', () => {
    expect(modules.size).toBeGreaterThan(50);
    expect([...modules.keys()].filter((p) => p.endsWith('.astro')).length).toBeGreaterThan(5);
    expect(modules.get(join('api', 'app.ts'))!.imports.length).toBeGreaterThan(5);
    // `import type` is told apart: the pages' view-model imports are erased at run time.
    expect(modules.get(join('site', 'page.ts'))!.imports.every((i) => i.typeOnly)).toBe(true);
    expect(modules.get(join('api', 'app.ts'))!.imports.some((i) => i.typeOnly)).toBe(true);
  });

  it('has no grab-bag modules: no utils, helpers, misc or manager files (a function lives next to what it serves)', () => {
    const found = [...modules.keys()].filter((p) => /(^|[/.-])(utils?|helpers?|misc|managers?)([/.-]|$)/i.test(p));
    expect(found, `grab-bag modules:${list(found)}`).toEqual([]);
  });

  it('has no import cycles in api/, db/, site/ or bin/ (type imports included)', () => {
    const found = cycles();
    expect(found, `import cycles:${list(found)}`).toEqual([]);
  });

  it('keeps api/http/ (what every route shares) below the routes: nothing it runs reaches a route module or api/app.ts', () => {
    const shared = [...modules.values()].filter((m) => m.path.startsWith('api/http/'));
    expect(shared.length).toBeGreaterThan(2);
    const found = shared.flatMap((m) =>
      [...reachable(m.path)]
        .filter(([p]) => p === join('api', 'app.ts') || isRouteModule(modules.get(p)))
        .map(([p, chain]) => `${chain.join(' → ')} → ${p}`),
    );
    expect(found, `api/http/ reaching routes:${list(found)}`).toEqual([]);
  });

  it('keeps api/http/ free of the domain\'s work: nothing it runs reaches a service, the console or the database', () => {
    // What every route shares is request plumbing (problems, body limits, same-origin, caching): it takes what it needs as
    // arguments, so a route's guard never opens a transaction of its own.
    const shared = [...modules.values()].filter((m) => m.path.startsWith('api/http/'));
    const domainWork = (p: string) => p.startsWith('api/services/') || p.startsWith('api/console/') || p.startsWith('db/');
    const found = shared.flatMap((m) => [...reachable(m.path)].filter(([p]) => domainWork(p)).map(([p, chain]) => `${chain.join(' → ')} → ${p}`));
    expect(found, `api/http/ reaching services, console or database:${list([...new Set(found)])}`).toEqual([]);
  });

  it('lets no route module import another route module', () => {
    const routes = [...modules.values()].filter(isRouteModule);
    expect(routes.length).toBeGreaterThan(5);
    const found = routes.flatMap((m) =>
      m.imports.filter((i) => isRouteModule(modules.get(i.target))).map((i) => `${where(m, i.line)} imports the route module ${i.target}; move what both need to api/http/`),
    );
    expect(found, `routes importing routes:${list(found)}`).toEqual([]);
  });

  it('reads the time only through the clock in api/ (api/clock.ts is the one exception)', () => {
    const found = [...modules.values()].filter((m) => m.path.startsWith('api/') && m.path !== join('api', 'clock.ts')).flatMap(wallClockReads);
    expect(found, `wall-clock reads:${list(found)}`).toEqual([]);
  });

  it('keeps site/ pages away from services, directly or through their value imports', () => {
    const pages = [...modules.values()].filter((m) => m.path.startsWith('site/'));
    const found = pages.flatMap((m) => [
      ...m.imports.filter((i) => i.target.startsWith('api/services/')).map((i) => `${where(m, i.line)} imports ${i.target}`),
      ...[...reachable(m.path)].filter(([p]) => p.startsWith('api/services/')).map(([p, chain]) => `${chain.join(' → ')} → ${p}`),
    ]);
    expect(found, `site/ reaching services:${list([...new Set(found)])}`).toEqual([]);
  });

  it('keeps the renderer (api/site/*) from writing to the database, directly or through what it imports', () => {
    // Its own bookkeeping is the exception: which process renders an output, and how far it has got (site_outputs).
    const bookkeeping = (w: string) => /: (insert|update|delete)\(siteOutputs\)$/.test(w);
    const writers = new Map(
      [...modules.values()].map((m) => [m.path, databaseWrites(m).filter((w) => !bookkeeping(w))] as const).filter(([, w]) => w.length > 0),
    );
    // The check can fail: the services that publish do write.
    expect(writers.has(join('api', 'services', 'incidents.ts'))).toBe(true);
    // The one door in api/site/: signing in to /internal/ starts a session (with a token, or with a stakeholder's
    // emailed link, which also queues that email), and the bearer middleware records a token's last use. Only
    // api/site/internal.ts and its stakeholder sign-in may import those writers; the walk does not go past them.
    // Members sign in the same ways, and by single sign-on (api/site/oidc-sign-in.ts over api/services/oidc.ts).
    const doors = [join('api', 'site', 'internal.ts'), join('api', 'site', 'stakeholder-sign-in.ts'), join('api', 'site', 'oidc-sign-in.ts')];
    const signIn = new Set([
      join('api', 'services', 'sessions.ts'),
      join('api', 'services', 'tokens.ts'),
      join('api', 'services', 'stakeholder-sign-in.ts'),
      join('api', 'services', 'oidc.ts'),
    ]);
    const renderer = [...modules.values()].filter((m) => m.path.startsWith('api/site/'));
    const found = renderer.flatMap((m) => [
      ...(writers.get(m.path) ?? []).map((w) => `${w} (in the renderer)`),
      ...[...reachable(m.path, (p) => signIn.has(p))]
        .filter(([p, chain]) => writers.has(p) && !(signIn.has(p) && doors.some((door) => (chain.at(-1) ?? where(m, 0)).startsWith(`${door}:`))))
        .map(([p, chain]) => `${chain.join(' → ')} → ${p}, which writes at ${writers.get(p)![0]}`),
    ]);
    expect(found, `the renderer writing:${list([...new Set(found)])}`).toEqual([]);
  });

  it('keeps the console an adapter beside the API, not on top of it: it imports nothing from api/routes/', () => {
    const consoleModules = [...modules.values()].filter((m) => m.path.startsWith(join('api', 'console') + '/'));
    expect(consoleModules.length).toBeGreaterThan(5);
    const found = consoleModules.flatMap((m) =>
      m.imports.filter((i) => i.target.startsWith(join('api', 'routes') + '/')).map((i) => `${where(m, i.line)} imports ${i.target}; take schemas from api/services/schemas.ts`),
    );
    expect(found, `console importing routes:${list(found)}`).toEqual([]);
  });

  it('keeps the use cases below their adapters: api/services/ imports nothing from api/site/ or api/outbox/ (beyond the listed debts)', () => {
    // Debts this rule found, each owned by the work that is moving it (issue 16): the webhook envelope is built from the
    // site's records until the one serializer lands; the target URL rule sits in the outbox's
    // HTTP sender; the outbox screen renders a message through the outbox's preparer. A new import fails; a paid debt
    // must leave this list (the second expectation), so it only shrinks.
    const debts = new Set([
      'api/services/webhooks.ts → api/site/records.ts',
      'api/services/webhooks.ts → api/outbox/http.ts',
      'api/services/channels.ts → api/outbox/http.ts',
      'api/services/outbox-view.ts → api/outbox/messages.ts',
      'api/services/reminders.ts → api/outbox/leases.ts',
    ]);
    const adapters = [join('api', 'site') + '/', join('api', 'outbox') + '/'];
    const edges = [...modules.values()]
      .filter((m) => m.path.startsWith(join('api', 'services') + '/'))
      .flatMap((m) => m.imports.filter((i) => adapters.some((a) => i.target.startsWith(a))).map((i) => ({ edge: `${m.path} → ${i.target}`, at: where(m, i.line) })));
    const found = edges.filter((e) => !debts.has(e.edge)).map((e) => `${e.at}: ${e.edge}`);
    expect(found, `services importing the site or the outbox:${list(found)}`).toEqual([]);
    const paid = [...debts].filter((d) => !edges.some((e) => e.edge === d));
    expect(paid, `debts no longer owed; remove them from the list:${list(paid)}`).toEqual([]);
  });

  it('keeps the outbox a courier: nothing in api/outbox/ calls a use case (it delivers what a use case queued)', () => {
    const useCases = new Set(Object.keys(useCaseRoles));
    const outbox = [...modules.values()].filter((m) => m.path.startsWith(join('api', 'outbox') + '/'));
    expect(outbox.length).toBeGreaterThan(3);
    const found = outbox.flatMap((m) =>
      [...nodes(m.source)]
        .filter((n): n is ts.ImportSpecifier => ts.isImportSpecifier(n) && useCases.has((n.propertyName ?? n.name).text))
        .map((n) => `${where(m, lineOf(m.source, n))} imports the use case ${(n.propertyName ?? n.name).text}`),
    );
    expect(found, `the outbox calling use cases:${list(found)}`).toEqual([]);
  });

  it('has every use case in the registry call authorize() with its own name', () => {
    const services = [...modules.values()].filter((m) => m.path.startsWith(join('api', 'services') + '/'));
    const checked = new Map<string, string>();
    for (const m of services) {
      for (const node of nodes(m.source)) {
        if (!ts.isFunctionDeclaration(node) || !node.name || !(node.name.text in useCaseRoles)) continue;
        const first = node.body?.statements[0];
        const call = first && ts.isExpressionStatement(first) && ts.isCallExpression(first.expression) ? first.expression : undefined;
        const named = call && ts.isIdentifier(call.expression) && call.expression.text === 'authorize' ? call.arguments[1] : undefined;
        checked.set(node.name.text, named && ts.isStringLiteral(named) ? named.text : `(first statement is not authorize) at ${where(m, lineOf(m.source, node))}`);
      }
    }
    const wrong = Object.keys(useCaseRoles).filter((u) => checked.get(u) !== u).map((u) => `${u}: ${checked.get(u) ?? 'no such function in api/services/'}`);
    expect(wrong, `use cases not checking their role first:${list(wrong)}`).toEqual([]);
  });

  it('has one HTML escaper (api/html.ts): no other module writes its own entity replacement', () => {
    // Slack's mrkdwn has its own, narrower rule (& < > only, api/services/channels.ts): not HTML, so not this escaper.
    const own = new Set([join('api', 'html.ts'), join('api', 'services', 'channels.ts')]);
    const found = [...modules.values()]
      .filter((m) => !own.has(m.path))
      .flatMap((m) => [...nodes(m.source)].filter((n) => ts.isStringLiteralLike(n) && /^&(amp|lt|gt|quot|#\d+);$/.test(n.text)).map((n) => `${where(m, lineOf(m.source, n))} writes ${(n as ts.StringLiteral).text}`));
    expect(found, `hand-written HTML escapes; use escapeHtml from api/html.ts:${list(found)}`).toEqual([]);
    expect(modules.get(join('api', 'services', 'channels.ts'))).toBeDefined();
  });
});

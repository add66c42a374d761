// How a page takes its view: the renderer puts it in Astro.locals; a page asked to render another kind is a bug.
import type { PageKind, PageView } from '../api/site/view-model.ts';

export function viewOf<K extends PageKind>(locals: App.Locals, kind: K): Extract<PageView, { kind: K }> {
  const view = locals.page;
  if (view?.kind !== kind) throw new Error(`the ${kind} page was given a ${view?.kind ?? 'missing'} view`);
  return view as Extract<PageView, { kind: K }>;
}

/** The route of each kind of page in the server bundle; the public URL is the renderer's business. */
export function routeOf(kind: PageKind): string {
  return kind === 'index' ? '/' : `/${kind}`;
}

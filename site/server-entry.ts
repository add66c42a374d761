// The server bundle's entry: renders one page from the view the renderer passes, in-process, to an HTML string.
import { createApp } from 'astro/app/entrypoint';
import type { PageView } from '../api/site/view-model.ts';
import { routeOf } from './page.ts';

const app = createApp({ streaming: false });

export async function renderPage(view: PageView): Promise<string> {
  const response = await app.render(new Request(`http://renderer.invalid${routeOf(view.kind)}`), { locals: { page: view } });
  const html = await response.text();
  if (response.status !== 200) throw new Error(`rendering the ${view.kind} page answered ${response.status}: ${html.slice(0, 300)}`);
  return html;
}

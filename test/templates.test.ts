// Templates: every shipped file loads; a broken one is refused naming its file and the reason; rendering is strict and values stay text.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../api/errors.ts';
import { templatesDir } from '../api/server.ts';
import { exampleBuiltins, exampleVariables, loadTemplates, parseTemplate, renderTemplate, TemplateFileError } from '../api/templates.ts';

interface Parts {
  key?: string;
  kind?: string;
  statuses?: string;
  subjectExternal?: string;
  subjectInternal?: string;
  variables?: string;
  external?: string;
  internal?: string;
  front?: string;
}

/** A small valid template; each test breaks one part of it. */
function source(p: Parts = {}): string {
  const front =
    p.front ??
    `key: ${p.key ?? 'sample'}
kind: ${p.kind ?? 'incident'}
name: Sample
description: A template for tests.
statuses: ${p.statuses ?? '[investigating, identified]'}
subject:
  external: "${p.subjectExternal ?? 'Update: {{ title }}'}"
  internal: "${p.subjectInternal ?? '[{{ severity }}] {{ title }}'}"
variables:
${
  p.variables ??
  `  - name: symptom
    description: What users see.
    required: true
    example: Pages load slowly.
  - name: extra
    description: Optional public note.
    required: false
    example: Try again later.
  - name: cause
    description: Insiders only.
    required: false
    example: The cache node is down.
    audience: internal`
}`;
  return `---
${front}
---

## External

${p.external ?? '{{ symptom }}{% if extra != blank %} {{ extra }}{% endif %}'}

## Internal

${p.internal ?? '{{ severity }}: {{ symptom }} Cause: {{ cause | default: "unknown" }}'}
`;
}

function refusal(text: string, file = '/templates/sample.md'): TemplateFileError {
  try {
    parseTemplate(file, text);
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateFileError);
    return e as TemplateFileError;
  }
  throw new Error('the template was accepted');
}

describe('shipped templates', () => {
  it('every file in templates/ loads, key matching its file name', () => {
    const catalog = loadTemplates(templatesDir);
    const files = readdirSync(templatesDir).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect(catalog.list().map((t) => t.key).sort()).toEqual(files.map((f) => f.replace(/\.md$/, '')).sort());
    expect(files.length).toBeGreaterThanOrEqual(14);
    for (const t of catalog.list()) {
      expect(t.variables.every((v) => v.example.length > 0), t.key).toBe(true);
      const rendered = renderTemplate(t, exampleVariables(t), exampleBuiltins(t.kind));
      expect(rendered.external.body.length, t.key).toBeGreaterThan(0);
      expect(rendered.internal.body.length, t.key).toBeGreaterThan(0);
    }
  });

  it('every variable of the starter set declares a plain label, unique within its template', () => {
    for (const f of readdirSync(templatesDir).filter((x) => x.endsWith('.md') && x !== 'README.md')) {
      const text = readFileSync(join(templatesDir, f), 'utf8');
      const names = [...text.matchAll(/^  - name: (\w+)\n    label: "([^"]+)"$/gm)];
      expect(names.length, `${f}: every "- name:" line is followed by its label`).toBe([...text.matchAll(/^  - name: /gm)].length);
    }
    for (const t of loadTemplates(templatesDir).list()) {
      for (const v of t.variables) expect(v.label, `${t.key}.${v.name}`).toMatch(/^[A-Z][^_]*$/);
    }
  });

  it('keeps internal-only examples out of every external wording', () => {
    for (const t of loadTemplates(templatesDir).list()) {
      const rendered = renderTemplate(t, exampleVariables(t), exampleBuiltins(t.kind));
      for (const v of t.variables.filter((v) => v.audience === 'internal')) {
        expect(rendered.external.body, `${t.key}.${v.name}`).not.toContain(v.example);
        expect(rendered.external.subject, `${t.key}.${v.name}`).not.toContain(v.example);
      }
      expect(rendered.external.body, t.key).not.toContain('SEV2');
      expect(rendered.external.body, t.key).not.toContain('Dana Reyes');
    }
  });
});

describe('parseTemplate refuses a broken template, naming the file and the reason', () => {
  it('accepts the valid sample', () => {
    const t = parseTemplate('/templates/sample.md', source());
    expect(t).toMatchObject({ key: 'sample', kind: 'incident', statuses: ['investigating', 'identified'] });
    expect(t.variables.find((v) => v.name === 'cause')?.audience).toBe('internal');
    expect(t.variables.find((v) => v.name === 'symptom')?.audience).toBe('both');
  });

  it('a missing Internal section', () => {
    const e = refusal(source().replace(/## Internal[\s\S]*$/, ''));
    expect(e.message).toMatch(/^\/templates\/sample\.md: /);
    expect(e.message).toMatch(/Internal/);
    expect(e.file).toBe('/templates/sample.md');
  });

  it('a missing External section, sections out of order, or a third section', () => {
    expect(refusal(source().replace('## External', '## Public')).message).toMatch(/External/);
    const swapped = source({ external: 'x' }).replace('## External', '## TEMP').replace('## Internal', '## External').replace('## TEMP', '## Internal');
    expect(refusal(swapped).message).toMatch(/External.*Internal/);
    expect(refusal(source() + '\n## External\n\nAgain\n').message).toMatch(/exactly one/);
  });

  it('an empty section', () => {
    expect(refusal(source({ external: '' })).message).toMatch(/External section is empty/);
    expect(refusal(source({ internal: '   ' })).message).toMatch(/Internal section is empty/);
  });

  it('no front matter, or front matter that is not YAML', () => {
    expect(refusal('## External\n\nx\n\n## Internal\n\ny\n').message).toMatch(/front matter/);
    const e = refusal(source({ front: 'key: sample\nkind: [incident\nname: x' }));
    expect(e.message).toMatch(/sample\.md: front matter is not valid YAML/);
  });

  it('an unknown status, or a maintenance status on an incident template', () => {
    expect(refusal(source({ statuses: '[investigating, fixed]' })).message).toMatch(/"fixed" is not a incident status|"fixed" is not an incident status/);
    expect(refusal(source({ statuses: '[in_progress]' })).message).toMatch(/in_progress/);
    expect(refusal(source({ statuses: '[]' })).message).toMatch(/statuses/);
  });

  it('a key that does not match the file name', () => {
    const e = refusal(source({ key: 'other' }));
    expect(e.message).toMatch(/key "other" must match the file name "sample"/);
  });

  it('missing or unknown front matter fields, and a bad kind', () => {
    expect(refusal(source().replace('name: Sample\n', '')).message).toMatch(/name/);
    expect(refusal(source().replace('name: Sample\n', 'name: Sample\nauthor: me\n')).message).toMatch(/author|Unrecognized/i);
    expect(refusal(source({ kind: 'outage' })).message).toMatch(/kind/);
  });

  it('a variable declared twice, a built-in redeclared, or a badly named variable', () => {
    const twice = `  - name: symptom
    description: d
    example: e
  - name: symptom
    description: d
    example: e`;
    expect(refusal(source({ variables: twice, internal: '{{ symptom }}' })).message).toMatch(/declared twice/);
    const builtin = `  - name: severity
    description: d
    example: e`;
    expect(refusal(source({ variables: builtin, external: 'x', internal: 'x' })).message).toMatch(/built-in/);
    const camel = `  - name: rootCause
    description: d
    example: e`;
    expect(refusal(source({ variables: camel, external: 'x', internal: 'x' })).message).toMatch(/snake_case/);
    const noExample = `  - name: symptom
    description: d`;
    expect(refusal(source({ variables: noExample, external: '{{ symptom }}', internal: '{{ symptom }}' })).message).toMatch(/example/);
  });

  it('a plain label per variable: kept when declared, made from the name when not, refused when it is not words for people', () => {
    const labelled = `  - name: what_happened
    label: What happened
    description: d
    example: e
  - name: follow_up
    description: d
    required: false
    example: e`;
    const t = parseTemplate('/templates/sample.md', source({ variables: labelled, external: '{{ what_happened }}', internal: '{{ what_happened }}' }));
    expect(t.variables.map((v) => [v.name, v.label])).toEqual([
      ['what_happened', 'What happened'],
      ['follow_up', 'Follow up'],
    ]);
    const one = (label: string) => `  - name: symptom
    label: ${label}
    description: d
    example: e`;
    const refused = (label: string) => refusal(source({ variables: one(label), external: '{{ symptom }}', internal: '{{ symptom }}' })).message;
    expect(refused('what_happened')).toMatch(/sample\.md: front matter variables\.0\.label: a label is plain words/);
    expect(refused('"{{ symptom }}"')).toMatch(/a label is plain words/);
    expect(refused('"Text that goes on and on and on and on and on and on and on and on"')).toMatch(/at most 60 characters/);
    expect(refused('""')).toMatch(/variables\.0\.label/);
    const sameLabel = `  - name: symptom
    label: What users see
    description: d
    example: e
  - name: effect
    label: what users see
    description: d
    example: e`;
    expect(refusal(source({ variables: sameLabel, external: '{{ symptom }}', internal: '{{ effect }}' })).message).toMatch(/the label "what users see" is used twice/);
    // A misspelt field (here "lable") was silently dropped before; now it stops start-up.
    const typo = `  - name: symptom
    lable: What users see
    description: d
    example: e`;
    expect(refusal(source({ variables: typo, external: '{{ symptom }}', internal: '{{ symptom }}' })).message).toMatch(/variables\.0.*lable/);
  });

  it('the internal-only built-in severity in the External section or the external subject', () => {
    let e = refusal(source({ external: 'A {{ severity }} incident: {{ symptom }}' }));
    expect(e.message).toMatch(/sample\.md: the External section uses "severity", which is internal only/);
    e = refusal(source({ subjectExternal: '[{{ severity }}] {{ title }}' }));
    expect(e.message).toMatch(/subject\.external uses "severity", which is internal only/);
    for (const name of ['ic', 'impact']) expect(refusal(source({ external: `{{ ${name} }} {{ symptom }}` })).message).toMatch(/internal only/);
  });

  it('an audience: internal variable in the External section, even inside an if or a filter', () => {
    for (const external of [
      '{{ symptom }} {{ cause }}',
      '{{ symptom }}{% if cause != blank %} Cause known.{% endif %}',
      '{{ symptom }} {{ cause | upcase }}',
      '{{ symptom }} {{ extra | default: cause }}',
      '{% assign c = cause %}{{ symptom }} {{ c }}',
      '{% for x in (1..1) %}{{ cause }}{% endfor %}{{ symptom }}',
    ]) {
      const e = refusal(source({ external }));
      expect(e.message, external).toMatch(/"cause", which is internal only/);
    }
    expect(refusal(source({ subjectExternal: '{{ title }} {{ cause }}' })).message).toMatch(/subject\.external uses "cause"/);
  });

  it('an undeclared variable anywhere', () => {
    expect(refusal(source({ external: '{{ symptom }} {{ eta }}' })).message).toMatch(/"eta", which is not declared/);
    expect(refusal(source({ internal: '{{ eta }}' })).message).toMatch(/Internal section uses "eta"/);
    expect(refusal(source({ subjectInternal: '{{ eta }}' })).message).toMatch(/subject\.internal uses "eta"/);
  });

  it('maintenance built-ins on an incident template, and incident built-ins on a maintenance template', () => {
    expect(refusal(source({ external: '{{ symptom }} until {{ ends_at }}' })).message).toMatch(/ends_at/);
    const maintenance = source({ kind: 'maintenance', statuses: '[scheduled]', subjectInternal: '{{ title }}', internal: '{{ severity }} {{ symptom }}' });
    expect(refusal(maintenance).message).toMatch(/severity/);
  });

  it('Liquid that does not parse, and an unknown filter', () => {
    expect(refusal(source({ external: '{{ symptom }' })).message).toMatch(/sample\.md: External section/);
    expect(refusal(source({ external: '{% if symptom %}open' })).message).toMatch(/sample\.md: /);
    expect(refusal(source({ external: '{{ symptom | shout }}' })).message).toMatch(/shout|filter/i);
  });

  it('include, render and layout tags: templates cannot read files', () => {
    const secret = mkdtempSync(join(tmpdir(), 'template-secret-'));
    writeFileSync(join(secret, 'secret.liquid'), 'TOP-SECRET');
    try {
      for (const tag of [
        `{% include '${join(secret, 'secret.liquid')}' %}`,
        `{% render '${join(secret, 'secret.liquid')}' %}`,
        `{% layout '${join(secret, 'secret.liquid')}' %}x`,
        "{% include 'secret.liquid' %}",
        "{% render '/etc/passwd' %}",
        "{% include '../package.json' %}",
      ]) {
        const e = refusal(source({ external: `{{ symptom }} ${tag}` }));
        expect(e.message, tag).toMatch(/^\/templates\/sample\.md: /);
        expect(e.message, tag).not.toContain('TOP-SECRET');
      }
    } finally {
      rmSync(secret, { recursive: true, force: true });
    }
  });
});

describe('rendering', () => {
  const template = () => parseTemplate('/templates/sample.md', source());
  const builtins = exampleBuiltins('incident');

  it('refuses a missing required variable and unknown variables, listing every name', () => {
    let error: unknown;
    try {
      renderTemplate(template(), { typo: 'x', other: 'y' }, builtins);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    const v = error as ValidationError;
    expect(v.status).toBe(422);
    expect(v.errors!.map((e) => e.path).sort()).toEqual(['variables.other', 'variables.symptom', 'variables.typo']);
    for (const name of ['other', 'symptom', 'typo']) expect(v.message).toContain(name);
  });

  it('passes a blank optional variable as empty, leaving no trace', () => {
    const r = renderTemplate(template(), { symptom: 'Pages load slowly.' }, builtins);
    expect(r.external.body).toBe('Pages load slowly.');
    expect(r.internal.body).toBe('SEV2: Pages load slowly. Cause: unknown');
  });

  it('renders values literally, never as Liquid', () => {
    const value = 'Errors {{ severity }} {% raw %}{{ cause }}{% endraw %} {% include "x" %} <b>&amp;</b>';
    const r = renderTemplate(template(), { symptom: value, cause: 'DB' }, builtins);
    expect(r.external.body).toBe(value);
    expect(r.internal.body).toContain(value);
    expect(r.external.body).not.toContain('SEV2');
  });

  it('keeps internal values out of the external wording even with the same name in builtins.external', () => {
    const r = renderTemplate(template(), { symptom: 'S', cause: 'CANARY-CAUSE' }, builtins);
    expect(r.external.body).not.toContain('CANARY-CAUSE');
    expect(r.internal.body).toContain('CANARY-CAUSE');
  });

  it('turns a subject into one line', () => {
    const t = parseTemplate(
      '/templates/sample.md',
      source({
        subjectExternal: '{{ title }} {{ symptom }}',
        variables: '  - name: symptom\n    description: d\n    example: e',
        external: '{{ symptom }}',
        internal: '{{ symptom }}',
      }),
    );
    expect(() => renderTemplate(t, { symptom: 'a\r\nBcc: x@example.com' }, builtins)).toThrow(ValidationError);
    const r = renderTemplate(t, { symptom: 'a\tb' }, { ...builtins, external: { ...builtins.external, title: 'T\r\nBcc: y' } });
    expect(r.external.subject).not.toMatch(/[\r\n]/);
  });
});

describe('loading a template folder', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  const copyOfShipped = () => {
    const dir = mkdtempSync(join(tmpdir(), 'templates-'));
    dirs.push(dir);
    for (const f of readdirSync(templatesDir)) copyFileSync(join(templatesDir, f), join(dir, f));
    return dir;
  };

  it('loads a copy of the shipped folder', () => {
    expect(loadTemplates(copyOfShipped()).list().length).toBeGreaterThanOrEqual(14);
  });

  it('stops start-up on one broken file, naming it', () => {
    const dir = copyOfShipped();
    const file = join(dir, 'resolved.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('## Internal', '## Notes'));
    expect(() => loadTemplates(dir)).toThrow(TemplateFileError);
    expect(() => loadTemplates(dir)).toThrow(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: `));
  });

  it('stops start-up when an internal variable leaks into a shipped template', () => {
    const dir = copyOfShipped();
    const file = join(dir, 'investigating.md');
    writeFileSync(file, readFileSync(file, 'utf8').replace('## Internal', '{{ hypothesis }}\n\n## Internal'));
    expect(() => loadTemplates(dir)).toThrow(/investigating\.md: the External section uses "hypothesis", which is internal only/);
  });

  it('stops start-up on a renamed file whose key no longer matches', () => {
    const dir = copyOfShipped();
    copyFileSync(join(dir, 'monitoring.md'), join(dir, 'watching.md'));
    expect(() => loadTemplates(dir)).toThrow(/watching\.md: key "monitoring" must match the file name "watching"/);
  });

  it('stops start-up on an empty folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'templates-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'README.md'), '# nothing here');
    expect(() => loadTemplates(dir)).toThrow(/no templates found/);
  });
});

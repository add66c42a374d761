// The database tables, grouped by domain: catalogue, incidents, maintenance, audiences, outbox, access.
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { actionItemPriorities, actionItemStatuses, componentStatuses, deliveryAudiences, deliveryKinds, incidentStatuses, maintenanceStatuses, severities, updateStatusValues, type ComponentStatus, type ReachFlags } from '../api/domain.ts';


const timestamp = (name: string) => integer(name, { mode: 'timestamp_ms' });
const createdAt = () => timestamp('created_at').notNull().default(sql`(unixepoch('subsec') * 1000)`);

export interface Roles {
  ic?: string | undefined;
  comms?: string | undefined;
  smes?: string[] | undefined;
}

/** What one update did to one component, kept on the update so history never has to be reconstructed. */
export interface ComponentImpact {
  id: string;
  name: string;
  status: ComponentStatus;
}

// ---- catalogue ----

/** A named group of components; its id is random, so renaming a group keeps its id and two names never share one. */
export const componentGroups = sqliteTable('component_groups', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at').notNull(),
});

export const components = sqliteTable('components', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  groupId: text('group_id'),
  /** Place within its group, smaller first (the column is `position`: ORDER is an SQL keyword). */
  order: integer('position').notNull().default(0),
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at').notNull(),
  archivedAt: timestamp('archived_at'),
});

// ---- incidents ----

export const incidents = sqliteTable(
  'incidents',
  {
    id: text('id').primaryKey(),
    title: text('title').notNull(),
    internalTitle: text('internal_title').notNull(),
    severity: text('severity', { enum: severities }).notNull(),
    status: text('status', { enum: incidentStatuses }).notNull(),
    audiences: text('audiences', { mode: 'json' }).$type<ReachFlags>().notNull(),
    roles: text('roles', { mode: 'json' }).$type<Roles>().notNull(),
    /** When impact began; may be earlier than the declaration. */
    startedAt: timestamp('started_at').notNull(),
    /** When the incident was declared: time to acknowledge is acknowledgedAt - startedAt. */
    acknowledgedAt: timestamp('acknowledged_at').notNull(),
    identifiedAt: timestamp('identified_at'),
    /** First time the incident entered monitoring (or resolved, when monitoring was skipped). */
    mitigatedAt: timestamp('mitigated_at'),
    resolvedAt: timestamp('resolved_at'),
    nextUpdateAt: timestamp('next_update_at'),
    /** A draft (made from an alert) shows on no public output and notifies no one until it is published. */
    draft: integer('draft', { mode: 'boolean' }).notNull().default(false),
    version: integer('version').notNull().default(1),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  (t) => [index('incidents_status').on(t.status), index('incidents_started_at').on(t.startedAt)],
);

/** The components an incident affects now, each with its impact; component status is derived from these. */
export const incidentComponents = sqliteTable(
  'incident_components',
  {
    incidentId: text('incident_id').notNull(),
    componentId: text('component_id').notNull(),
    impact: text('impact', { enum: componentStatuses }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.incidentId, t.componentId] }), index('incident_components_component').on(t.componentId)],
);

/** One entry in an incident's or a maintenance's timeline, with both wordings rendered once, at publish time. */
export const updates = sqliteTable(
  'updates',
  {
    id: text('id').primaryKey(),
    incidentId: text('incident_id'),
    maintenanceId: text('maintenance_id'),
    status: text('status', { enum: updateStatusValues }).notNull(),
    template: text('template').notNull(),
    variables: text('variables', { mode: 'json' }).$type<Record<string, string>>().notNull(),
    externalSubject: text('external_subject').notNull(),
    externalBody: text('external_body').notNull(),
    internalSubject: text('internal_subject').notNull(),
    internalBody: text('internal_body').notNull(),
    components: text('components', { mode: 'json' }).$type<ComponentImpact[]>().notNull(),
    audiences: text('audiences', { mode: 'json' }).$type<ReachFlags>().notNull(),
    author: text('author').notNull(),
    nextUpdateAt: timestamp('next_update_at'),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [
    index('updates_incident').on(t.incidentId, t.createdAt),
    index('updates_maintenance').on(t.maintenanceId, t.createdAt),
    index('updates_created_at').on(t.createdAt),
  ],
);

export const postmortems = sqliteTable('postmortems', {
  incidentId: text('incident_id').primaryKey(),
  externalSummary: text('external_summary').notNull(),
  internalBody: text('internal_body').notNull(),
  author: text('author').notNull(),
  publishedAt: timestamp('published_at').notNull(),
  updatedAt: timestamp('updated_at').notNull(),
});

/**
 * A follow-up an incident taught: who owns it, by when, how urgent. Made from a postmortem or on its own; its owner
 * is reminded through the outbox the day before `dueOn` and weekly while it is overdue (api/services/action-items.ts).
 */
export const actionItems = sqliteTable(
  'action_items',
  {
    id: text('id').primaryKey(),
    incidentId: text('incident_id').notNull(),
    title: text('title').notNull(),
    /** An email address; items carried over from before action items were records may hold a name instead. */
    owner: text('owner').notNull(),
    /** A calendar day, YYYY-MM-DD, read in UTC. */
    dueOn: text('due_on').notNull(),
    priority: text('priority', { enum: actionItemPriorities }).notNull(),
    status: text('status', { enum: actionItemStatuses }).notNull(),
    url: text('url'),
    /** When it was marked done (or won't do); null while open. */
    closedAt: timestamp('closed_at'),
    version: integer('version').notNull().default(1),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at').notNull(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  (t) => [index('action_items_incident').on(t.incidentId), index('action_items_status_due').on(t.status, t.dueOn), index('action_items_created').on(t.createdAt)],
);

// ---- maintenance ----

export const maintenances = sqliteTable(
  'maintenances',
  {
    id: text('id').primaryKey(),
    title: text('title').notNull(),
    internalTitle: text('internal_title').notNull(),
    status: text('status', { enum: maintenanceStatuses }).notNull(),
    audiences: text('audiences', { mode: 'json' }).$type<ReachFlags>().notNull(),
    scheduledFor: timestamp('scheduled_for').notNull(),
    scheduledUntil: timestamp('scheduled_until').notNull(),
    /** Whether the clock moves it to in_progress at scheduledFor and completed at scheduledUntil. */
    autoStart: integer('auto_start', { mode: 'boolean' }).notNull().default(true),
    autoComplete: integer('auto_complete', { mode: 'boolean' }).notNull().default(true),
    startedAt: timestamp('started_at'),
    completedAt: timestamp('completed_at'),
    reminderSentAt: timestamp('reminder_sent_at'),
    version: integer('version').notNull().default(1),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: timestamp('updated_at').notNull(),
  },
  (t) => [index('maintenances_status').on(t.status, t.scheduledFor)],
);

export const maintenanceComponents = sqliteTable(
  'maintenance_components',
  {
    maintenanceId: text('maintenance_id').notNull(),
    componentId: text('component_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.maintenanceId, t.componentId] }), index('maintenance_components_component').on(t.componentId)],
);

// ---- audiences ----

export const subscribers = sqliteTable('subscribers', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  /** Component ids this subscriber wants to hear about; null means everything. */
  components: text('components', { mode: 'json' }).$type<string[] | null>(),
  confirmedAt: timestamp('confirmed_at'),
  confirmTokenHash: text('confirm_token_hash'),
  confirmExpiresAt: timestamp('confirm_expires_at'),
  /** Capability token in every email's unsubscribe and manage links. */
  unsubscribeToken: text('unsubscribe_token').notNull().unique(),
  hardBounces: integer('hard_bounces').notNull().default(0),
  suppressedAt: timestamp('suppressed_at'),
  createdAt: createdAt(),
});

export const stakeholders = sqliteTable('stakeholders', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  hardBounces: integer('hard_bounces').notNull().default(0),
  suppressedAt: timestamp('suppressed_at'),
  createdAt: createdAt(),
});

/** A public webhook subscriber: Statuspage-shaped envelopes with the external wording, signed per Standard Webhooks. */
export const webhookSubscribers = sqliteTable('webhook_subscribers', {
  id: text('id').primaryKey(),
  url: text('url').notNull(),
  /** Component ids this subscriber wants to hear about; null means everything. */
  components: text('components', { mode: 'json' }).$type<string[] | null>(),
  /** The Standard Webhooks signing secret (whsec_…): kept, because every delivery is signed with it. */
  secret: text('secret').notNull(),
  /** Capability token in every envelope's unsubscribe link. */
  unsubscribeToken: text('unsubscribe_token').notNull().unique(),
  /** Consecutive deliveries given up as failed; at the limit the subscriber is disabled. */
  failures: integer('failures').notNull().default(0),
  disabledAt: timestamp('disabled_at'),
  createdAt: createdAt(),
});

// ---- channels and alerts ----

/** An internal chat channel (Slack, Discord, Teams or plain JSON) that receives briefings and reminders. */
export const channels = sqliteTable('channels', {
  id: text('id').primaryKey(),
  kind: text('kind').notNull(), // slack | discord | teams | generic
  url: text('url').notNull(),
  name: text('name').notNull(),
  createdBy: text('created_by').notNull(),
  createdAt: createdAt(),
});

/** One alert group from a monitoring system, tied to the incident it declared; a repeat finds it here. */
export const alertGroups = sqliteTable(
  'alert_groups',
  {
    id: text('id').primaryKey(),
    source: text('source').notNull(), // alertmanager | grafana
    groupKey: text('group_key').notNull(),
    incidentId: text('incident_id').notNull(),
    status: text('status').notNull(), // firing | resolved
    firingAt: timestamp('firing_at').notNull(),
    resolvedAt: timestamp('resolved_at'),
    lastReceivedAt: timestamp('last_received_at').notNull(),
  },
  (t) => [uniqueIndex('alert_groups_key').on(t.source, t.groupKey), index('alert_groups_incident').on(t.incidentId)],
);

// ---- outbox ----

/**
 * One email to one recipient. Rows for an update are inserted in the transaction that publishes it;
 * workers lease, send and mark them, so a crash or a mail outage loses nothing.
 */
export const deliveries = sqliteTable(
  'deliveries',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** null for messages not tied to an update, such as a subscription confirmation. */
    updateId: text('update_id'),
    /** What the delivery is (api/domain.ts deliveryKinds). */
    kind: text('kind', { enum: deliveryKinds }).notNull(),
    audience: text('audience', { enum: deliveryAudiences }).notNull(),
    /** A subscriber, stakeholder, channel or webhook subscriber id; for `comms`, the address itself; for `owner`, the action item's id. */
    recipientId: text('recipient_id').notNull(),
    /** Where it goes: an email address, or the URL of a channel or webhook subscriber. */
    email: text('email').notNull(),
    /** Position in a series sharing update, kind and recipient: the nth overdue notice. */
    seq: integer('seq').notNull().default(0),
    status: text('status').notNull().default('pending'), // pending | sent | failed | suppressed
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at').notNull(),
    leaseOwner: text('lease_owner'),
    leaseUntil: timestamp('lease_until'),
    lastError: text('last_error'),
    messageId: text('message_id'),
    sentAt: timestamp('sent_at'),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex('deliveries_once').on(t.updateId, t.kind, t.recipientId, t.seq),
    index('deliveries_due').on(t.status, t.nextAttemptAt),
  ],
);

/** One row per month whose reliability briefing was queued, so several processes queue it once (REPORT_DAY). */
export const reliabilityBriefings = sqliteTable('reliability_briefings', {
  /** YYYY-MM, the month the briefing reports on. */
  month: text('month').primaryKey(),
  queuedAt: timestamp('queued_at').notNull(),
});

// ---- audit ----

export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: timestamp('at').notNull(),
    /** The name the timeline shows. */
    actor: text('actor').notNull(),
    /** Who acted, typed (api/services/context.ts Actor): member, token, stakeholder, alert or system; anonymous for a subscriber through their own link. */
    actorKind: text('actor_kind', { enum: ['member', 'token', 'stakeholder', 'alert', 'system', 'anonymous'] }).notNull().default('system'),
    /** The member's, token's or stakeholder's id (the alert's token id); the system's name for the system. */
    actorId: text('actor_id').notNull().default(''),
    action: text('action').notNull(),
    subjectType: text('subject_type').notNull(),
    subjectId: text('subject_id').notNull(),
    detail: text('detail', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  },
  (t) => [index('audit_events_subject').on(t.subjectType, t.subjectId, t.at)],
);

// ---- access ----

export const apiTokens = sqliteTable('api_tokens', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  role: text('role').notNull(),
  /** Where reminders reach the token's holder (SPEC "Cadence"); optional. */
  email: text('email'),
  hash: text('hash').notNull().unique(),
  createdAt: createdAt(),
  revokedAt: timestamp('revoked_at'),
  lastUsedAt: timestamp('last_used_at'),
});

/** A team member: a person who signs in (emailed link or SSO) with a role; removing one ends their sessions. */
export const members = sqliteTable('members', {
  id: text('id').primaryKey(),
  email: text('email').notNull().unique(),
  name: text('name').notNull(),
  role: text('role').notNull(), // admin | comms | viewer
  createdAt: createdAt(),
  updatedAt: timestamp('updated_at').notNull(),
  lastSignedInAt: timestamp('last_signed_in_at'),
});

/**
 * Sign-in sessions for the internal page; the cookie carries the secret, the table its hash. A session belongs to
 * exactly one of: an API token (signed in with the token), a member (emailed link or SSO), or a stakeholder (emailed
 * link, always a viewer). It ends 12 hours after it was last used, and 7 days after it began whatever happens.
 */
export const sessions = sqliteTable(
  'sessions',
  {
    hash: text('hash').primaryKey(),
    tokenId: text('token_id'),
    stakeholderId: text('stakeholder_id'),
    memberId: text('member_id'),
    /** The absolute end: createdAt + 7 days. */
    expiresAt: timestamp('expires_at').notNull(),
    /** Last request seen (kept to the minute); the idle limit counts from here. */
    lastSeenAt: timestamp('last_seen_at'),
    createdAt: createdAt(),
  },
  (t) => [index('sessions_member').on(t.memberId)],
);

/**
 * One-time sign-in links for stakeholders and members. An emailed link's secret is minted when the outbox composes
 * the email; a link printed at the shell (npm run member, first run) is minted at once. Only the hash is kept; a
 * link works once, until expiresAt.
 */
export const signInLinks = sqliteTable(
  'sign_in_links',
  {
    id: text('id').primaryKey(),
    /** Whose link it is: a stakeholder or a member, exactly one of the two. */
    stakeholderId: text('stakeholder_id'),
    memberId: text('member_id'),
    /** The outbox row that emails this link; null for a link printed at the shell. */
    deliveryId: integer('delivery_id').unique(),
    /** Hash of the emailed secret; null until the email is composed. */
    hash: text('hash').unique(),
    /** Where the stakeholder lands after signing in: a path under /internal/. */
    next: text('next').notNull(),
    expiresAt: timestamp('expires_at').notNull(),
    usedAt: timestamp('used_at'),
    createdAt: timestamp('created_at').notNull(),
  },
  (t) => [index('sign_in_links_stakeholder').on(t.stakeholderId, t.createdAt), index('sign_in_links_member').on(t.memberId, t.createdAt)],
);

export const idempotencyKeys = sqliteTable(
  'idempotency_keys',
  {
    /** Whose key this is: "token:<api token id>", or "anonymous:<client address>" for callers without a token. */
    tokenId: text('token_id').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    status: integer('status').notNull(),
    body: text('body').notNull(),
    /** The stored answer's Content-Type, replayed with it (JSON, problem+json or an HTML page). */
    contentType: text('content_type'),
    /** While status is 0 (in progress): the claim is the holder's until then, renewed while it runs; after, a retry may take it over. */
    leaseUntil: timestamp('lease_until'),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.tokenId, t.key] }), index('idempotency_keys_created_at').on(t.createdAt)],
);

// ---- site output ----

/** One generation of a rendered output: the site paths it changed, or null for a whole new release. */
export interface OutputGeneration {
  generation: number;
  release: string;
  paths: string[] | null;
}

/**
 * One rendered copy of the public site (an output folder shared by one or more processes, or a bucket) and how far
 * it has caught up with the audit timeline, whose ids are the change log every render reads. The lease names the
 * one process that renders into (or uploads to) it; the others follow its generations.
 */
export const siteOutputs = sqliteTable('site_outputs', {
  id: text('id').primaryKey(),
  /** The last audit_events.id whose change is in this output. */
  renderedThrough: integer('rendered_through').notNull().default(0),
  generation: integer('generation').notNull().default(0),
  /** The live release's folder name. */
  release: text('release'),
  /** What the output was rendered with (renderer bundle and settings); another key needs a full render. */
  renderKey: text('render_key'),
  /** The last few generations, so a follower that missed one reloads only what changed. */
  recent: text('recent', { mode: 'json' }).$type<OutputGeneration[]>().notNull().default([]),
  leaseOwner: text('lease_owner'),
  leaseUntil: timestamp('lease_until'),
  updatedAt: timestamp('updated_at').notNull(),
});

/**
 * What a use case did for an idempotency key (an API Idempotency-Key or a console form key), written in the use
 * case's own transaction: a retry, a double-click or a restart after kill -9 finds the subject it made instead of
 * publishing again (SPEC "One door", "Faults"). Scoped by the actor's key, so callers never see each other's keys.
 */
export const useCaseOutcomes = sqliteTable(
  'use_case_outcomes',
  {
    /** actorKey(actor): "token:<id>", "member:<id>", … */
    scope: text('scope').notNull(),
    key: text('key').notNull(),
    useCase: text('use_case').notNull(),
    /** SHA-256 of the use case's input: the same key with other input is refused. */
    requestHash: text('request_hash').notNull(),
    /** The incident or maintenance the use case made or changed. */
    subjectId: text('subject_id').notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.scope, t.key] }), index('use_case_outcomes_created').on(t.createdAt)],
);

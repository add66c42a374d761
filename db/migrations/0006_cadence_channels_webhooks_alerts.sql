CREATE TABLE `alert_groups` (
	`id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`group_key` text NOT NULL,
	`incident_id` text NOT NULL,
	`status` text NOT NULL,
	`firing_at` integer NOT NULL,
	`resolved_at` integer,
	`last_received_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `alert_groups_key` ON `alert_groups` (`source`,`group_key`);--> statement-breakpoint
CREATE INDEX `alert_groups_incident` ON `alert_groups` (`incident_id`);--> statement-breakpoint
CREATE TABLE `channels` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`url` text NOT NULL,
	`name` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE TABLE `webhook_subscribers` (
	`id` text PRIMARY KEY NOT NULL,
	`url` text NOT NULL,
	`components` text,
	`secret` text NOT NULL,
	`unsubscribe_token` text NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL,
	`disabled_at` integer,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_subscribers_unsubscribe_token_unique` ON `webhook_subscribers` (`unsubscribe_token`);--> statement-breakpoint
DROP INDEX `deliveries_once`;--> statement-breakpoint
ALTER TABLE `deliveries` ADD `seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_once` ON `deliveries` (`update_id`,`kind`,`recipient_id`,`seq`);--> statement-breakpoint
ALTER TABLE `incidents` ADD `draft` integer DEFAULT false NOT NULL;
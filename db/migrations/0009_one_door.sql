CREATE TABLE `use_case_outcomes` (
	`scope` text NOT NULL,
	`key` text NOT NULL,
	`use_case` text NOT NULL,
	`request_hash` text NOT NULL,
	`subject_id` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch('subsec') * 1000) NOT NULL,
	PRIMARY KEY(`scope`, `key`)
);
--> statement-breakpoint
CREATE INDEX `use_case_outcomes_created` ON `use_case_outcomes` (`created_at`);--> statement-breakpoint
ALTER TABLE `audit_events` ADD `actor_kind` text DEFAULT 'system' NOT NULL;--> statement-breakpoint
ALTER TABLE `audit_events` ADD `actor_id` text DEFAULT '' NOT NULL;